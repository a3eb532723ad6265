package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

// vendorAccountEditCommand changes an account's login details; flags not
// given keep the stored values, and the password is kept unless a new
// one is given or removal is asked for.
func (a *app) vendorAccountEditCommand() *cobra.Command {
	var passwordFile string
	var removePassword bool
	var in client.VendorAccountInput
	cmd := &cobra.Command{
		Use:   "edit NAME [--username U] [--password-file F | --remove-password] [--email E] [--url URL] [--notes TEXT]",
		Short: "Change a vendor account; the password stays unless replaced or removed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if removePassword && passwordFile != "" {
				return fmt.Errorf("give --password-file or --remove-password, not both")
			}
			password, err := readPasswordFile(passwordFile)
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				acc, err := vendorAccountNamed(ctx, c, args[0])
				if err != nil {
					return err
				}
				edited := editedAccount(cmd, acc, in)
				switch {
				case removePassword:
					edited.Password = new(string)
				case passwordFile != "":
					edited.Password = &password
				}
				if _, err := c.UpdateVendorAccount(ctx, acc.ID, edited); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "changed vendor account %s\n", acc.Name)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Username, "username", "", "the login name at the vendor")
	f.StringVar(&passwordFile, "password-file", "", "read the new password from the first line of this file")
	f.BoolVar(&removePassword, "remove-password", false, "forget the stored password")
	f.StringVar(&in.Email, "email", "", "the account's email address")
	f.StringVar(&in.URL, "url", "", "the vendor's login page")
	f.StringVar(&in.Notes, "notes", "", "free text")
	return cmd
}

// editedAccount is acc with the flags the user gave applied; the password
// is left nil (kept).
func editedAccount(cmd *cobra.Command, acc *client.VendorAccount, in client.VendorAccountInput) client.VendorAccountInput {
	out := client.VendorAccountInput{IssuerID: acc.IssuerID, Name: acc.Name, Username: acc.Username,
		Email: acc.Email, URL: acc.URL, Notes: acc.Notes}
	f := cmd.Flags()
	if f.Changed("username") {
		out.Username = in.Username
	}
	if f.Changed("email") {
		out.Email = in.Email
	}
	if f.Changed("url") {
		out.URL = in.URL
	}
	if f.Changed("notes") {
		out.Notes = in.Notes
	}
	return out
}

// vendorAccountNamed finds a vendor account by its name.
func vendorAccountNamed(ctx context.Context, c *client.Client, name string) (*client.VendorAccount, error) {
	list, err := c.ListVendorAccounts(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list.Items {
		if list.Items[i].Name == name {
			return &list.Items[i], nil
		}
	}
	return nil, fmt.Errorf("no vendor account is named %q", name)
}
