package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestDigestRoutes: anyone signed in previews the digest, which sends and
// changes nothing; a user's send answers 403 and changes nothing; an
// admin's is audited.
func TestDigestRoutes(t *testing.T) {
	e := newEnv(t, openSQLite)
	al := e.overdueAlert(t)
	before, err := e.admin.ListAudit(ctx, client.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.user.PreviewDigest(ctx)
	if err != nil || d.Empty || len(d.Needs) == 0 || d.Needs[0].Title != "Open alerts" ||
		!strings.Contains(d.Needs[0].Lines[0].Text, al.Summary) {
		t.Fatalf("PreviewDigest as a user = %+v, %v; want the open alert", d, err)
	}
	_, err = e.user.SendDigest(ctx)
	wantProblem(t, err, http.StatusForbidden)
	if _, err := e.st.GetSetting(ctx, "digest.last"); err == nil {
		t.Error("a preview or a refused send recorded a digest")
	}
	after, err := e.admin.ListAudit(ctx, client.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range after.Items {
		if strings.HasPrefix(ev.Action, "digest.") {
			t.Errorf("audit event %+v after a preview and a refused send", ev)
		}
	}
	if len(after.Items) < len(before.Items) {
		t.Fatalf("audit shrank: %d -> %d", len(before.Items), len(after.Items))
	}
	res, err := e.admin.SendDigest(ctx)
	if err != nil || res.Sent || !strings.Contains(res.Reason, "no recipient") {
		t.Fatalf("SendDigest with no admin e-mail = %+v, %v; want not sent, no recipient", res, err)
	}
	events, _, err := e.st.ListAudit(ctx, d.Since, inventory.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, ev := range events {
		found = found || ev.Action == "digest.send" && ev.Actor == "user:ada" && strings.Contains(ev.Summary, "no recipient")
	}
	if !found {
		t.Errorf("no digest.send by user:ada in %+v", events)
	}
}
