package cli

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage API tokens",
	}
	cmd.AddCommand(a.tokenCreateCommand(), a.tokenListCommand(), a.tokenRevokeCommand())
	return cmd
}

func (a *app) tokenCreateCommand() *cobra.Command {
	var user, name, expires string
	cmd := &cobra.Command{
		Use:   "create --user NAME --name LABEL [--expires 90d]",
		Short: "Make an API token for a user; the secret is printed once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ttl, err := parseExpires(expires)
			if err != nil {
				return err
			}
			svc, err := a.users(cmd.Context())
			if err != nil {
				return err
			}
			secret, tok, err := svc.CreateToken(cmd.Context(), a.actor(), user, name, ttl)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "created token %d %q for %s, expires %s\n", tok.ID, name, user, optionalTime(tok.ExpiresAt, "never"))
			fmt.Fprintf(a.env.Stdout, "secret (shown only now; store it safely): %s\n", secret)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&user, "user", "", "owner of the token (required)")
	f.StringVar(&name, "name", "", "label for the token (required)")
	f.StringVar(&expires, "expires", "90d", "lifetime, e.g. 90d or 12h; 0 for a token that does not expire")
	cmd.MarkFlagRequired("user")
	cmd.MarkFlagRequired("name")
	return cmd
}

// parseExpires reads --expires; "0" means no expiry.
func parseExpires(s string) (time.Duration, error) {
	d, err := parseDays(s)
	if err != nil {
		return 0, fmt.Errorf("--expires: %w", err)
	}
	return d, nil
}

// optionalTime formats t to the minute, or none when t is nil.
func optionalTime(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func (a *app) tokenListCommand() *cobra.Command {
	var user string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --user NAME [--json]",
		Short: "List a user's API tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, err := a.users(cmd.Context())
			if err != nil {
				return err
			}
			list, err := svc.ListTokens(cmd.Context(), user)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.env.Stdout, newTokenListView(list))
			}
			writeTokenList(a.env.Stdout, list)
			return nil
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "owner of the tokens (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.MarkFlagRequired("user")
	return cmd
}

type tokenListView struct {
	Tokens []tokenView `json:"tokens"`
}

// tokenView is a token as shown: never the secret or its hash.
type tokenView struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func newTokenListView(list []inventory.APIToken) tokenListView {
	v := tokenListView{Tokens: make([]tokenView, 0, len(list))}
	for _, t := range list {
		v.Tokens = append(v.Tokens, tokenView{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt,
			ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt})
	}
	return v
}

func writeTokenList(w io.Writer, list []inventory.APIToken) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no tokens")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tCREATED\tEXPIRES\tLAST USED")
	for _, t := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s...\t%s\t%s\t%s\n", t.ID, t.Name, t.Prefix, optionalTime(&t.CreatedAt, ""),
			optionalTime(t.ExpiresAt, "never"), optionalTime(t.LastUsedAt, "never"))
	}
	tw.Flush()
}

func (a *app) tokenRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Delete an API token so it no longer works",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("token ID %q is not a positive number", args[0])
			}
			svc, err := a.users(cmd.Context())
			if err != nil {
				return err
			}
			if err := svc.RevokeToken(cmd.Context(), a.actor(), id); err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "token %d revoked\n", id)
			return nil
		},
	}
}
