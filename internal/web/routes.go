package web

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// route is one page or form action of the UI. Every one goes through
// guard (auth.go): sign-in, role, anti-forgery token.
type route struct {
	method, pattern string
	// role is the least role that may open the page. The API checks again
	// for whatever the page reads or changes.
	role   inventory.Role
	handle func(http.ResponseWriter, *http.Request) error
}

const (
	user  = inventory.RoleUser
	admin = inventory.RoleAdmin
)

// table lists every page and action that needs a signed-in user. Each
// screen's file adds its group.
func (ui *UI) table() []route {
	var rs []route
	for _, group := range [][]route{ui.accountRoutes(), ui.dashboardRoutes(), ui.definitionRoutes(),
		ui.acquisitionRoutes(), ui.certificateRoutes(), ui.keyRoutes(), ui.targetRoutes(), ui.deploymentRoutes(), ui.agentRoutes(),
		ui.catalogueRoutes(), ui.caRoutes(),
		ui.auditRoutes(), ui.settingsRoutes(), ui.trustRoutes(), ui.outboundRoutes(), ui.approvalRoutes(), ui.channelRoutes(),
		ui.alertRoutes(), ui.digestRoutes(), ui.endpointRoutes(), ui.jobRoutes()} {
		rs = append(rs, group...)
	}
	return rs
}

func (ui *UI) accountRoutes() []route {
	return []route{
		{"POST", "/logout", user, ui.logout},
		{"POST", "/logout/everywhere", user, ui.logoutEverywhere},
		{"GET", "/account/password", user, ui.passwordPage},
		{"POST", "/account/password", user, ui.changePassword},
	}
}

//go:embed static
var staticFS embed.FS

// register mounts the public pages (sign-in, static files, the CA
// certificate) and the route table.
func (ui *UI) register() {
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	ui.mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))
	ui.mux.HandleFunc("GET /login", ui.loginPage)
	ui.mux.Handle("POST /login", ui.throttle(http.HandlerFunc(ui.login)))
	if ui.CACertificate != nil {
		ui.mux.HandleFunc("GET /ca.pem", ui.caCertificate)
	}
	for _, rt := range ui.table() {
		ui.mux.Handle(rt.method+" "+rt.pattern, ui.guard(rt))
	}
	ui.mux.Handle("/", ui.guard(route{role: user, handle: ui.notFound}))
}

func (ui *UI) notFound(w http.ResponseWriter, r *http.Request) error {
	ui.render(w, r, page{name: "error", title: "Not found", status: http.StatusNotFound,
		data: errorData{Status: http.StatusNotFound, Message: "There is no page at " + r.URL.Path + "."}})
	return nil
}
