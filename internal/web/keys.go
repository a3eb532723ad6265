package web

import (
	"fmt"
	"net/http"

	"github.com/certkeeper/certkeeper/client"
)

func (ui *UI) keyRoutes() []route {
	return []route{
		{"GET", "/keys", user, ui.keyList},
		{"GET", "/keys/{id}", user, ui.keyShow},
	}
}

type keyListData struct {
	// Items have their Usage filled in.
	Items []client.Key
	Next  string
}

// keyList lists the keys with what uses each.
func (ui *UI) keyList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	l, err := ui.api.ListKeys(ctx, listPage(r))
	if err != nil {
		return err
	}
	data := keyListData{Next: l.Next}
	for _, k := range l.Items {
		full, err := ui.api.GetKey(ctx, k.ID)
		if err != nil {
			return err
		}
		data.Items = append(data.Items, *full)
	}
	ui.render(w, r, page{name: "keys", title: "Private keys", section: "keys", data: data})
	return nil
}

type keyData struct {
	K            *client.Key
	Certificates []client.Certificate
	Next         string
}

func (ui *UI) keyShow(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	k, err := ui.api.GetKey(ctx, id)
	if err != nil {
		return err
	}
	certs, err := ui.api.ListCertificates(ctx, client.CertificateQuery{KeyID: id, Page: listPage(r)})
	if err != nil {
		return err
	}
	ui.render(w, r, page{name: "key", title: fmt.Sprintf("Key #%d", k.ID), section: "keys",
		data: keyData{K: k, Certificates: certs.Items, Next: certs.Next}})
	return nil
}
