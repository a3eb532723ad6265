package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

func (a *app) vendorAccountCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vendor-account",
		Short: "Manage logins at certificate vendors (passwords are sealed and never listed)",
	}
	cmd.AddCommand(a.vendorAccountAddCommand(), a.vendorAccountEditCommand(), a.vendorAccountListCommand())
	return cmd
}

func (a *app) vendorAccountAddCommand() *cobra.Command {
	var issuer, passwordFile string
	var in client.VendorAccountInput
	cmd := &cobra.Command{
		Use:   "add --issuer NAME --name N --username U [--password-file F] [--email E] [--url URL]",
		Short: "Add a vendor account; the password (first line of the file) is sealed by the master key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			password, err := readPasswordFile(passwordFile)
			if err != nil {
				return err
			}
			if password != "" {
				in.Password = &password
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				i, err := issuerNamed(ctx, c, issuer)
				if err != nil {
					return err
				}
				in.IssuerID = i.ID
				acc, err := c.CreateVendorAccount(ctx, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "added vendor account %s at %s\n", acc.Name, issuer)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&issuer, "issuer", "", "the vendor's issuer name (required)")
	f.StringVar(&in.Name, "name", "", "the account's name in certkeeper (required)")
	f.StringVar(&in.Username, "username", "", "the login name at the vendor")
	f.StringVar(&passwordFile, "password-file", "", "read the password from the first line of this file")
	f.StringVar(&in.Email, "email", "", "the account's email address")
	f.StringVar(&in.URL, "url", "", "the vendor's login page")
	f.StringVar(&in.Notes, "notes", "", "free text")
	cmd.MarkFlagRequired("issuer")
	cmd.MarkFlagRequired("name")
	return cmd
}

func (a *app) vendorAccountListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List vendor accounts (never their passwords)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				list, err := c.ListVendorAccounts(ctx)
				if err != nil {
					return err
				}
				issuers, err := c.ListIssuers(ctx)
				if err != nil {
					return err
				}
				names := map[int64]string{}
				for _, i := range issuers.Items {
					names[i.ID] = i.Name
				}
				if asJSON {
					return writeJSON(a.env.Stdout, newAccountListView(list.Items, names))
				}
				writeAccountList(a.env.Stdout, list.Items, names)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type accountListView struct {
	Accounts []accountView `json:"vendor_accounts"`
}

// accountView is a vendor account as shown: never the password.
type accountView struct {
	ID          int64     `json:"id"`
	Issuer      string    `json:"issuer"`
	Name        string    `json:"name"`
	Username    string    `json:"username"`
	HasPassword bool      `json:"has_password"`
	Email       string    `json:"email,omitempty"`
	URL         string    `json:"url,omitempty"`
	Notes       string    `json:"notes,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

func newAccountListView(list []client.VendorAccount, issuers map[int64]string) accountListView {
	v := accountListView{Accounts: make([]accountView, 0, len(list))}
	for _, acc := range list {
		v.Accounts = append(v.Accounts, accountView{ID: acc.ID, Issuer: issuers[acc.IssuerID], Name: acc.Name,
			Username: acc.Username, HasPassword: acc.HasPassword, Email: acc.Email, URL: acc.URL, Notes: acc.Notes,
			CreatedAt: acc.CreatedAt})
	}
	return v
}

func writeAccountList(w io.Writer, list []client.VendorAccount, issuers map[int64]string) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no vendor accounts")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tISSUER\tNAME\tUSERNAME\tEMAIL\tPASSWORD\tCREATED")
	for _, acc := range list {
		pw := "none"
		if acc.HasPassword {
			pw = "sealed"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", acc.ID, issuers[acc.IssuerID], acc.Name, acc.Username,
			acc.Email, pw, acc.CreatedAt.Format(time.DateOnly))
	}
	tw.Flush()
}
