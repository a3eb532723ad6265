package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func (a *app) userCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage the people who may sign in",
	}
	cmd.AddCommand(a.userCreateCommand(), a.userListCommand(), a.userResetCommand(), a.userRoleCommand(),
		a.userDisableCommand(true), a.userDisableCommand(false), a.userUnlockCommand())
	return cmd
}

func (a *app) userCreateCommand() *cobra.Command {
	var role, passwordFile string
	cmd := &cobra.Command{
		Use:   "create NAME [--role admin|user] [--password-file F]",
		Short: "Add a user; without --password-file a one-time password is generated and printed once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			password, err := readPasswordFile(passwordFile)
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				u, err := c.CreateUser(ctx, client.NewUser{Username: args[0], Role: role, Password: password})
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "created user %s (%s)\n", u.User.Username, u.User.Role)
				if u.Password != "" {
					printOneTimePassword(a.env.Stdout, u.Password)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&role, "role", string(inventory.RoleUser), "role: admin or user")
	cmd.Flags().StringVar(&passwordFile, "password-file", "", "read the password from the first line of this file")
	return cmd
}

// readPasswordFile returns the first line of file, or "" when file is "".
func readPasswordFile(file string) (string, error) {
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) == 0 {
		return "", errors.New("password file: first line is empty")
	}
	return string(line), nil
}

func printOneTimePassword(w io.Writer, pw string) {
	fmt.Fprintf(w, "one-time password (shown only now; it must be changed at first sign-in): %s\n", pw)
}

func (a *app) userListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				list, err := c.ListUsers(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, newUserListView(list.Items))
				}
				writeUserList(a.env.Stdout, list.Items)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type userListView struct {
	Users []userView `json:"users"`
}

// userView is a user as shown: never the password hash.
type userView struct {
	ID                 int64     `json:"id"`
	Username           string    `json:"username"`
	Role               string    `json:"role"`
	Disabled           bool      `json:"disabled"`
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

func newUserListView(list []client.User) userListView {
	v := userListView{Users: make([]userView, 0, len(list))}
	for _, u := range list {
		v.Users = append(v.Users, userView{ID: u.ID, Username: u.Username, Role: u.Role, Disabled: u.Disabled,
			MustChangePassword: u.MustChangePassword, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt})
	}
	return v
}

func writeUserList(w io.Writer, list []client.User) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no users")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tROLE\tSTATUS\tPASSWORD\tCREATED")
	for _, u := range list {
		status, pw := "enabled", "set"
		if u.Disabled {
			status = "disabled"
		}
		if u.MustChangePassword {
			pw = "must change"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Username, u.Role, status, pw, u.CreatedAt.Format(time.DateOnly))
	}
	tw.Flush()
}

func (a *app) userResetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "reset-password NAME",
		Short: "Give a user a new one-time password, printed once (they must change it at sign-in); their sessions and API tokens end",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withUser(cmd, args[0], func(ctx context.Context, c *client.Client, u *client.User) error {
				r, err := c.ResetPassword(ctx, u.ID)
				if err != nil {
					return err
				}
				printOneTimePassword(a.env.Stdout, r.Password)
				return nil
			})
		},
	}
}

func (a *app) userRoleCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "role NAME admin|user",
		Short: "Change a user's role",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withUser(cmd, args[0], func(ctx context.Context, c *client.Client, u *client.User) error {
				if _, err := c.UpdateUser(ctx, u.ID, client.UserUpdate{Role: args[1]}); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "user %s is now %s\n", args[0], args[1])
				return nil
			})
		},
	}
}

// userDisableCommand is "user disable" when disable is set, else "user
// enable".
func (a *app) userDisableCommand(disable bool) *cobra.Command {
	verb, short := "enable", "Let a disabled user sign in again"
	if disable {
		verb, short = "disable", "Stop a user signing in; their sessions and API tokens end for good"
	}
	return &cobra.Command{
		Use:   verb + " NAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withUser(cmd, args[0], func(ctx context.Context, c *client.Client, u *client.User) error {
				if _, err := c.UpdateUser(ctx, u.ID, client.UserUpdate{Disabled: &disable}); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "user %s %sd\n", args[0], verb)
				return nil
			})
		},
	}
}

func (a *app) userUnlockCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "unlock NAME",
		Short: "End a user's sign-in backoff: forget failed sign-ins with their name and from the addresses those came from",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withUser(cmd, args[0], func(ctx context.Context, c *client.Client, u *client.User) error {
				r, err := c.UnlockUser(ctx, u.ID)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "user %s unlocked: %d sign-in failure records cleared\n", u.Username, r.Cleared)
				return nil
			})
		},
	}
}

// withUser runs f with the API client and the user called name.
func (a *app) withUser(cmd *cobra.Command, name string, f func(ctx context.Context, c *client.Client, u *client.User) error) error {
	return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
		u, err := c.UserByName(ctx, name)
		if err != nil {
			return err
		}
		return f(ctx, c, u)
	})
}
