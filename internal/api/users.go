package api

import (
	"net/http"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/users"
)

func (a *API) getMe(w http.ResponseWriter, r *http.Request) error {
	return ok(w, userOut(userOf(r)))
}

// listUsers lists every user, or with ?username= the one of that name
// (letter case ignored), if any.
func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	list, err := a.usersNamed(r)
	if err != nil {
		return err
	}
	out := client.UserList{Items: make([]client.User, len(list))}
	for i := range list {
		out.Items[i] = userOut(&list[i])
	}
	return ok(w, out)
}

func (a *API) usersNamed(r *http.Request) ([]inventory.User, error) {
	name := r.URL.Query().Get("username")
	if name == "" {
		return a.Users.List(r.Context())
	}
	u, err := a.Users.ByName(r.Context(), name)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []inventory.User{*u}, nil
}

// createUser adds a user; the password is returned only when generated.
func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	var in client.NewUser
	if err := decode(r, &in); err != nil {
		return err
	}
	pw, err := a.Users.Create(r.Context(), actor(r), in.Username, inventory.Role(in.Role), in.Password)
	if err != nil {
		return err
	}
	u, err := a.Users.ByName(r.Context(), in.Username)
	if err != nil {
		return err
	}
	out := client.CreatedUser{User: userOut(u)}
	if in.Password == "" {
		out.Password = pw
	}
	return writeJSON(w, http.StatusCreated, out)
}

// pathUser loads the user of the path's {id}.
func (a *API) pathUser(r *http.Request) (*inventory.User, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	u, err := a.Users.ByID(r.Context(), id)
	return u, missing(err, "user", id)
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) error {
	u, err := a.pathUser(r)
	if err != nil {
		return err
	}
	var in client.UserUpdate
	if err := decode(r, &in); err != nil {
		return err
	}
	u, err = a.Users.Edit(r.Context(), actor(r), u, users.Change{Role: inventory.Role(in.Role), Disabled: in.Disabled})
	if err != nil {
		return err
	}
	return ok(w, userOut(u))
}

func (a *API) resetPassword(w http.ResponseWriter, r *http.Request) error {
	u, err := a.pathUser(r)
	if err != nil {
		return err
	}
	pw, err := a.Users.ResetPassword(r.Context(), actor(r), u.Username)
	if err != nil {
		return err
	}
	return ok(w, client.PasswordReset{Password: pw})
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	return a.writeTokens(w, r, userOf(r))
}

// listUserTokens lists the tokens of the path's user (admin).
func (a *API) listUserTokens(w http.ResponseWriter, r *http.Request) error {
	u, err := a.pathUser(r)
	if err != nil {
		return err
	}
	return a.writeTokens(w, r, u)
}

func (a *API) writeTokens(w http.ResponseWriter, r *http.Request, u *inventory.User) error {
	list, err := a.Users.Tokens(r.Context(), u.ID)
	if err != nil {
		return err
	}
	p, err := a.Users.TokenPolicy(r.Context())
	if err != nil {
		return err
	}
	out := client.TokenList{Items: make([]client.Token, len(list))}
	for i := range list {
		out.Items[i] = tokenOut(&list[i])
		out.Items[i].ExpiresAt = utcPtr(p.Expiry(&list[i]))
	}
	return ok(w, out)
}

// createToken makes a token for the caller; the secret is in this
// response only.
func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	return a.newToken(w, r, userOf(r).Username)
}

// createUserToken makes a token for the path's user (admin); the secret
// is in this response only.
func (a *API) createUserToken(w http.ResponseWriter, r *http.Request) error {
	u, err := a.pathUser(r)
	if err != nil {
		return err
	}
	return a.newToken(w, r, u.Username)
}

func (a *API) newToken(w http.ResponseWriter, r *http.Request, username string) error {
	var in client.NewToken
	if err := decode(r, &in); err != nil {
		return err
	}
	var ttl time.Duration
	if in.TTL != "" {
		var err error
		if ttl, err = time.ParseDuration(in.TTL); err != nil {
			return inventory.Invalid("ttl", "ttl %q: want a Go duration such as 720h", in.TTL)
		}
	}
	secret, t, err := a.Users.CreateToken(r.Context(), actor(r), username, in.Name, ttl)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, client.CreatedToken{Token: tokenOut(t), Secret: secret})
}

// deleteToken revokes one of the caller's tokens; admins may revoke any.
// Another user's token is "not found" to a non-admin.
func (a *API) deleteToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if isAdmin(r) {
		err = a.Users.RevokeToken(r.Context(), actor(r), id)
	} else {
		err = a.Users.RevokeOwnToken(r.Context(), actor(r), userOf(r), id)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// unlockUser ends the path's user's sign-in backoff (admin).
func (a *API) unlockUser(w http.ResponseWriter, r *http.Request) error {
	u, err := a.pathUser(r)
	if err != nil {
		return err
	}
	n, err := a.Users.Unlock(r.Context(), actor(r), u.Username)
	if err != nil {
		return err
	}
	return ok(w, client.Unlocked{Cleared: n})
}

func (a *API) getTokenPolicy(w http.ResponseWriter, r *http.Request) error {
	p, err := a.Users.TokenPolicy(r.Context())
	if err != nil {
		return err
	}
	return ok(w, tokenPolicyOut(p))
}

func (a *API) setTokenPolicy(w http.ResponseWriter, r *http.Request) error {
	var in client.TokenPolicy
	if err := decode(r, &in); err != nil {
		return err
	}
	var p users.TokenPolicy
	if in.MaxLifetime != "" {
		d, err := time.ParseDuration(in.MaxLifetime)
		if err != nil {
			return inventory.Invalid("max_lifetime", "max_lifetime %q: want a Go duration such as 720h", in.MaxLifetime)
		}
		p.MaxLifetime = d
	}
	if err := a.Users.SetTokenPolicy(r.Context(), actor(r), p); err != nil {
		return err
	}
	return ok(w, tokenPolicyOut(p))
}

func tokenPolicyOut(p users.TokenPolicy) client.TokenPolicy {
	if p.MaxLifetime == 0 {
		return client.TokenPolicy{MaxLifetime: ""}
	}
	return client.TokenPolicy{MaxLifetime: p.MaxLifetime.String()}
}
