package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/certkeeper/certkeeper/client"
)

// channelRoutes: the notification channels screen and the sent
// notifications beside Sent e-mails (admins only).
func (ui *UI) channelRoutes() []route {
	return []route{
		{"GET", "/settings/channels", admin, ui.channelsPage},
		{"POST", "/settings/channels", admin, ui.addChannel},
		{"POST", "/settings/channels/{name}/test", admin, ui.testChannel},
		{"POST", "/settings/channels/{name}/remove", admin, ui.removeChannel},
		{"GET", "/settings/notifications", admin, ui.sentNotifications},
	}
}

// admChannelsData fills the channels page: the channels and the add form
// as typed (never the secret).
type admChannelsData struct {
	Channels []client.Channel
	Form     client.ChannelInput
	Formats  []string
}

var channelFormats = []string{"generic", "slack", "teams", "pagerduty", "ntfy"}

func (ui *UI) channelsPage(w http.ResponseWriter, r *http.Request) error {
	return ui.renderChannels(w, r, client.ChannelInput{Format: "generic"}, http.StatusOK, "", nil)
}

func (ui *UI) renderChannels(w http.ResponseWriter, r *http.Request, form client.ChannelInput, status int,
	msg string, fields map[string]string) error {
	list, err := ui.api.ListChannels(r.Context())
	if err != nil {
		return err
	}
	form.Secret = ""
	ui.render(w, r, page{name: "channels", title: "Notification channels", section: "settings",
		data:   admChannelsData{Channels: list.Items, Form: form, Formats: channelFormats},
		status: status, err: msg, fields: fields})
	return nil
}

func (ui *UI) addChannel(w http.ResponseWriter, r *http.Request) error {
	in := client.ChannelInput{Name: strings.TrimSpace(r.PostFormValue("name")), Format: r.PostFormValue("format"),
		URL: strings.TrimSpace(r.PostFormValue("url")), Secret: r.PostFormValue("secret")}
	ch, err := ui.api.AddChannel(r.Context(), in)
	if msg, fields, ok := formError(err); ok {
		return ui.renderChannels(w, r, in, http.StatusUnprocessableEntity, "The channel was not added: "+msg, fields)
	}
	if err != nil {
		return err
	}
	redirect(w, r, "/settings/channels", fmt.Sprintf("Channel %s added; send it a test notification to check it.", ch.Name))
	return nil
}

func (ui *UI) testChannel(w http.ResponseWriter, r *http.Request) error {
	n, err := ui.api.TestChannel(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if n.Status != "sent" {
		return ui.renderChannels(w, r, client.ChannelInput{Format: "generic"}, http.StatusBadGateway,
			fmt.Sprintf("The test notification on %s failed after %d attempt(s): %s", n.Channel, n.Attempts, n.Error), nil)
	}
	redirect(w, r, "/settings/channels", fmt.Sprintf("Test notification sent on %s (HTTP %d).", n.Channel, n.HTTPStatus))
	return nil
}

func (ui *UI) removeChannel(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := ui.api.RemoveChannel(r.Context(), name); err != nil {
		return err
	}
	redirect(w, r, "/settings/channels", fmt.Sprintf("Channel %s removed; what was sent on it stays listed.", name))
	return nil
}

func (ui *UI) sentNotifications(w http.ResponseWriter, r *http.Request) error {
	list, err := ui.api.ListNotifications(r.Context(), client.Page{Limit: 50, After: r.URL.Query().Get("after")})
	if msg, _, ok := formError(err); ok {
		ui.render(w, r, page{name: "notifications", title: "Sent notifications", section: "settings",
			data: &client.NotificationList{}, status: http.StatusBadRequest, err: msg})
		return nil
	}
	if err != nil {
		return err
	}
	ui.render(w, r, page{name: "notifications", title: "Sent notifications", section: "settings", data: list})
	return nil
}
