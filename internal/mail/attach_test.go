package mail_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/mail"
	"github.com/certkeeper/certkeeper/internal/settings"
)

// TestSendWithAttachments sends a file with a message: the server gets a
// multipart message with the text and the file intact; the record keeps
// the text and names the file.
func TestSendWithAttachments(t *testing.T) {
	srv := newSMTPServer(t, plainOnly, "", "")
	e := newEnv(t)
	m := e.mailer(t, nil, smtpSettings(srv, settings.SecurityNone, "", ""))
	file := bytes.Repeat([]byte{0, 1, 2, 0xff, '\n'}, 100)
	body := "Install the attached package.\n"
	got, err := m.SendWithAttachments(ctx, "install_request", []string{"ops@example.com"}, "Install request", body,
		[]mail.Attachment{{Name: "web1.ckpkg", Data: file}})
	if err != nil || got.Status != "sent" {
		t.Fatalf("SendWithAttachments = %+v, %v; want sent", got, err)
	}
	if !strings.HasPrefix(got.Body, body) || !strings.Contains(got.Body, "web1.ckpkg (500 bytes)") {
		t.Errorf("recorded body = %q, want the text and the file named", got.Body)
	}
	msgs := srv.messages()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want 1", len(msgs))
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	media, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || media != "multipart/mixed" {
		t.Fatalf("Content-Type = %q, %v; want multipart/mixed", media, err)
	}
	parts := map[string][]byte{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = p
		if p.Header.Get("Content-Transfer-Encoding") == "base64" {
			r = base64.NewDecoder(base64.StdEncoding, p)
		}
		data, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		parts[p.FileName()] = data
	}
	if !bytes.Equal(parts["web1.ckpkg"], file) {
		t.Errorf("attachment = %d bytes, want the 500 sent", len(parts["web1.ckpkg"]))
	}
	if text := strings.ReplaceAll(string(parts[""]), "\r\n", "\n"); text != body {
		t.Errorf("text part = %q, want %q", text, body)
	}
}
