package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

// TestTargetFormStartTLS: the check's STARTTLS protocol is chosen on the
// form, shown on the target's page and selected again on its edit form;
// an unknown one is refused with the field's error and changes nothing.
func TestTargetFormStartTLS(t *testing.T) {
	s := newSite(t)
	ada := s.signInOwn("ada")
	form := url.Values{"name": {"mx1"}, "preset": {"generic"}, "method": {"directory"}, "directory": {"/etc/postfix/tls"},
		"check_host": {"mx1.example.test"}, "check_port": {"25"}, "check_starttls": {"smtp"}}
	targetPath := ada.newTarget(form)
	ada.page(targetPath, 200, "<dt>STARTTLS</dt><dd>smtp</dd>")
	edit := ada.page(targetPath+"/edit", 200, `<option value="smtp" selected>`)
	version := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(edit)[1]
	form.Set("version", version)
	form.Set("check_starttls", "gopher")
	res, body := ada.post(targetPath+"/edit", form)
	wantStatus(t, "unknown STARTTLS", res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, `id="e-t-check-starttls"`, "unknown STARTTLS protocol")
	ada.page(targetPath+"/edit", 200, `name="version" value="`+version+`"`, `<option value="smtp" selected>`)
}
