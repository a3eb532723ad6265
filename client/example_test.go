package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/store"
)

func Example() {
	baseURL, token, stop := startServer()
	defer stop()

	ctx := context.Background()
	c, err := client.New(baseURL, token)
	if err != nil {
		log.Fatal(err)
	}
	d, err := c.CreateDefinition(ctx, &client.Definition{
		Name:    "shop",
		Subject: client.Subject{CommonName: "shop.example.com"},
		SANs:    []string{"shop.example.com", "www.shop.example.com"},
		Renewal: client.Renewal{DaysBefore: 30},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created", d.Name, "version", d.Version)

	d.Labels = []string{"production"}
	if d, err = c.UpdateDefinition(ctx, d); err != nil {
		log.Fatal(err)
	}
	fmt.Println("updated to version", d.Version)

	_, err = c.GetDefinition(ctx, 999)
	fmt.Println("not found:", client.IsNotFound(err))

	_, err = c.CreateDefinition(ctx, &client.Definition{Name: "bad", SANs: []string{"bad name"}})
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.Problem.Status, e.Problem.Errors[0].Field)
	}
	// Output:
	// created shop version 1
	// updated to version 2
	// not found: true
	// 422 sans
}

// startServer runs certkeeper's API, assembled by the stack as the server
// assembles it, over a throwaway SQLite inventory and returns its URL and
// an admin's API token.
func startServer() (baseURL, token string, stop func()) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "certkeeper-example")
	if err != nil {
		log.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(dir, "certkeeper.db"))
	if err != nil {
		log.Fatal(err)
	}
	sealer, err := keys.NewSealer(nil, bytes.Repeat([]byte{1}, keys.MasterKeySize))
	if err != nil {
		log.Fatal(err)
	}
	s, err := stack.New(ctx, st, sealer, stack.Config{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := s.Users.Create(ctx, "example", "admin", inventory.RoleAdmin, ""); err != nil {
		log.Fatal(err)
	}
	if token, _, err = s.Users.CreateToken(ctx, "example", "admin", "example", 0); err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(s.API.Handler())
	return srv.URL, token, func() { srv.Close(); st.Close(); os.RemoveAll(dir) }
}
