package api

import (
	"errors"
	"net/http"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/notify"
)

// channelRoutes: notification channels, readable by users (rules name
// them), changed and tested by admins; the record of what was sent.
func (a *API) channelRoutes() []route {
	ch := typeOf[client.Channel]()
	return []route{
		{method: "GET", pattern: "/api/v1/channels", op: "listChannels", role: user,
			summary: "List notification channels (never their secrets; URLs cut to the host)",
			out:     typeOf[client.ChannelList](), handle: a.listChannels},
		{method: "POST", pattern: "/api/v1/channels", op: "addChannel", role: admin,
			summary: "Add a notification channel (the secret is sealed and never returned)", in: typeOf[client.ChannelInput](),
			out: ch, status: http.StatusCreated, handle: a.addChannel},
		{method: "DELETE", pattern: "/api/v1/channels/{name}", op: "removeChannel", role: admin,
			summary: "Remove a notification channel (what was sent on it stays listed)", status: http.StatusNoContent,
			handle: a.removeChannel},
		{method: "POST", pattern: "/api/v1/channels/{name}/test", op: "testChannel", role: admin,
			summary: "Send a test notification on a channel; a failed delivery is reported in the record, not as an error",
			out:     typeOf[client.Notification](), handle: a.testChannel},
		{method: "GET", pattern: "/api/v1/notifications", op: "listNotifications", role: admin,
			summary: "List notifications sent or tried on channels, newest first", query: pageParams,
			out: typeOf[client.NotificationList](), handle: a.listNotifications},
	}
}

func channelOut(v *notify.ChannelView) client.Channel {
	return client.Channel{Name: v.Name, Format: v.Format, URL: v.URL, SecretSet: v.SecretSet,
		CreatedAt: v.CreatedAt.UTC(), CreatedBy: v.CreatedBy}
}

func notificationOut(n *inventory.Notification) client.Notification {
	return client.Notification{ID: n.ID, Time: n.Time.UTC(), Channel: n.Channel, Kind: n.Kind, Key: n.Key,
		Subject: n.Subject, Status: n.Status, Attempts: n.Attempts, HTTPStatus: n.HTTPStatus, Error: n.Error}
}

// notifyErr answers the service's refusal of a non-admin with 403.
func notifyErr(err error) error {
	if errors.Is(err, notify.ErrForbidden) {
		return &statusError{status: http.StatusForbidden, err: err}
	}
	return err
}

func (a *API) listChannels(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Notify.List(r.Context())
	if err != nil {
		return err
	}
	out := client.ChannelList{Items: make([]client.Channel, len(list))}
	for i := range list {
		out.Items[i] = channelOut(&list[i])
	}
	return ok(w, out)
}

func (a *API) addChannel(w http.ResponseWriter, r *http.Request) error {
	var in client.ChannelInput
	if err := decode(r, &in); err != nil {
		return err
	}
	v, err := a.Notify.Add(r.Context(), requester(r), notify.ChannelInput{Name: in.Name, Format: in.Format,
		URL: in.URL, Secret: in.Secret})
	if err != nil {
		return notifyErr(err)
	}
	return writeJSON(w, http.StatusCreated, channelOut(v))
}

func (a *API) removeChannel(w http.ResponseWriter, r *http.Request) error {
	if err := a.Notify.Remove(r.Context(), requester(r), r.PathValue("name")); err != nil {
		return notifyErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) testChannel(w http.ResponseWriter, r *http.Request) error {
	n, err := a.Notify.Test(r.Context(), requester(r), r.PathValue("name"))
	if err != nil {
		return notifyErr(err)
	}
	return ok(w, notificationOut(n))
}

func (a *API) listNotifications(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	list, next, err := a.Notify.Sent(r.Context(), p)
	if err != nil {
		return err
	}
	out := client.NotificationList{Items: make([]client.Notification, len(list)), Next: next}
	for i := range list {
		out.Items[i] = notificationOut(&list[i])
	}
	return ok(w, out)
}
