package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/kit"
)

func (a *app) kitCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kit",
		Short: "Make and check mutual-TLS kits (a server and its clients from one CA)",
		Long: "A kit is a server and its clients with certificates from one CA, written into named\n" +
			"directory layouts: license-server (ca.crt, server.crt, server.key, web-server.pem,\n" +
			"web-ca.cer) and license-client (ca.crt, charon.crt, charon.key), or layouts of your own\n" +
			"(--layout-file, see docs/kit.md).",
	}
	cmd.AddCommand(a.kitCreateCommand(), a.kitVerifyCommand())
	return cmd
}

// layoutFlags selects layouts by name among the built-in ones and those
// of a layout file.
type layoutFlags struct {
	file, server, client string
}

func (l *layoutFlags) bind(cmd *cobra.Command, serverDefault, clientDefault string) {
	cmd.Flags().StringVar(&l.file, "layout-file", "", "JSON file defining more layouts (see docs/kit.md)")
	cmd.Flags().StringVar(&l.server, "server-layout", serverDefault, "layout of the server directory")
	cmd.Flags().StringVar(&l.client, "client-layout", clientDefault, "layout of the client directories")
}

// all returns the kit's built-in layouts, the deployment presets'
// layouts, and those of --layout-file.
func (l *layoutFlags) all() ([]kit.Layout, error) {
	layouts := kit.Builtin()
	for _, p := range engine.Builtin() {
		if !slices.ContainsFunc(layouts, func(o kit.Layout) bool { return o.Name == p.Name() }) {
			layouts = append(layouts, p.Layout)
		}
	}
	if l.file == "" {
		return layouts, nil
	}
	data, err := os.ReadFile(l.file)
	if err != nil {
		return nil, fmt.Errorf("kit: layout file: %w", err)
	}
	more, err := kit.ParseLayouts(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.file, err)
	}
	return append(layouts, more...), nil
}

// kitLayouts returns l.all() and, when --server-layout or --client-layout
// names none of them, the user layouts saved with "certkeeper preset add"
// (read from the inventory only then).
func (a *app) kitLayouts(cmd *cobra.Command, l *layoutFlags) ([]kit.Layout, error) {
	layouts, err := l.all()
	if err != nil {
		return nil, err
	}
	known := func(name string) bool {
		return name == "" || slices.ContainsFunc(layouts, func(o kit.Layout) bool { return o.Name == name })
	}
	if known(l.server) && known(l.client) {
		return layouts, nil
	}
	err = a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
		list, err := c.ListPresets(ctx)
		if err != nil {
			return err
		}
		for _, p := range list.Items {
			if p.Builtin || known(p.Name) {
				continue
			}
			doc, err := json.Marshal(map[string]any{"name": p.Name, "files": p.Files})
			if err != nil {
				return err
			}
			more, err := kit.ParseLayouts(doc)
			if err != nil {
				return fmt.Errorf("user layout %s: %w", p.Name, err)
			}
			layouts = append(layouts, more...)
		}
		return nil
	})
	return layouts, err
}

type kitCreateOptions struct {
	out           string
	serverNames   []string
	serverIPs     []string
	clients       []string
	caName        string
	newCA         bool
	serverProfile string
	keyType       string
	days          int
	force, json   bool
	clientsOnly   bool
	layouts       layoutFlags
}

func (a *app) kitCreateCommand() *cobra.Command {
	var o kitCreateOptions
	cmd := &cobra.Command{
		Use:   "create --out DIR --server-name NAME [--client NAME ...] [flags]",
		Short: "Issue a server certificate and client certificates from one CA and write them as a kit",
		Long: "create issues a certificate for the server's names and one client certificate per\n" +
			"--client from one CA (--ca NAME, the default CA, or --new-ca), then writes DIR/server/\n" +
			"and DIR/clients/NAME/ in the chosen layouts, each file atomically with its mode.\n" +
			"Without --client the kit is the server alone. With --clients-only the clients are\n" +
			"added to the existing kit in DIR, from the CA that issued its certificates.\n" +
			"Keys are generated here and kept sealed in the inventory. DIR must be missing or\n" +
			"empty unless --force, which copies every file it replaces into\n" +
			"DIR/.backup-YYYYMMDD-HHMMSS first.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runKitCreate(cmd, &o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "out", "o", "", "kit directory to write")
	f.StringArrayVar(&o.serverNames, "server-name", nil, "DNS name of the server (repeatable)")
	f.StringArrayVar(&o.serverIPs, "server-ip", nil, "IP address of the server (repeatable)")
	f.StringArrayVar(&o.clients, "client", nil, "client name: its certificate's common name and directory (repeatable)")
	f.StringVar(&o.caName, "ca", "", "CA to issue from (default: the default CA)")
	f.BoolVar(&o.newCA, "new-ca", false, "create a new root and issuing CA for this kit")
	f.StringVar(&o.serverProfile, "server-profile", string(ca.TLSServer), "server certificate profile: tls-server, or tls-server-client for servers that also connect to peers")
	f.StringVar(&o.keyType, "key-type", "", "key type: ecdsa-p256 (default), ecdsa-p384, rsa-2048, rsa-3072, rsa-4096, ed25519")
	f.IntVar(&o.days, "days", 0, "validity in days (default: the profile's)")
	f.BoolVar(&o.force, "force", false, "write into DIR even if it is not empty, replacing files of the same names (backed up first)")
	f.BoolVar(&o.clientsOnly, "clients-only", false, "add the --client certificates to the existing kit in DIR, from the CA of its certificates")
	f.BoolVar(&o.json, "json", false, "print what was written as JSON")
	o.layouts.bind(cmd, kit.LicenseServer.Name, kit.LicenseClient.Name)
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func (a *app) runKitCreate(cmd *cobra.Command, o *kitCreateOptions) error {
	ctx := cmd.Context()
	layouts, err := a.kitLayouts(cmd, &o.layouts)
	if err != nil {
		return err
	}
	spec, err := o.spec(layouts)
	if err != nil {
		return err
	}
	spec.Requester = ca.Admin(a.actor())
	if err := o.checkDir(); err != nil {
		return err
	}
	s, err := a.stack(ctx)
	if err != nil {
		return err
	}
	mo := kit.MakeOptions{Dir: o.out, NewCA: o.newCA, Force: o.force, Now: a.env.Now}
	if o.clientsOnly {
		if mo.Layouts, err = o.layouts.all(); err != nil {
			return err
		}
	}
	m, err := kit.Make(ctx, s.Authority, spec, mo)
	if err != nil {
		return err
	}
	v := newKitView(o.out, m.CA, m.Kit)
	v.BackupDir = m.BackupDir
	if o.json {
		return writeJSON(a.env.Stdout, v)
	}
	return v.writeText(a.env.Stdout)
}

// checkDir refuses before anything is issued when the kit cannot be
// written into --out.
func (o *kitCreateOptions) checkDir() error {
	if o.clientsOnly {
		return kit.CheckAdd(o.out, o.clients, o.force)
	}
	return kit.CheckDir(o.out, o.force)
}

func (o *kitCreateOptions) spec(layouts []kit.Layout) (kit.Spec, error) {
	s := kit.Spec{ServerNames: o.serverNames, Clients: o.clients, ServerProfile: ca.Profile(o.serverProfile),
		KeySpec: ca.KeySpec(o.keyType), CA: o.caName, ClientsOnly: o.clientsOnly}
	if o.newCA && (o.caName != "" || o.clientsOnly) {
		return s, fmt.Errorf("kit: --new-ca excludes --ca and --clients-only")
	}
	if o.days < 0 || o.days > 36500 {
		return s, fmt.Errorf("kit: --days %d: give a number of days between 1 and 36500", o.days)
	}
	s.Validity = time.Duration(o.days) * 24 * time.Hour
	for _, ip := range o.serverIPs {
		p := net.ParseIP(ip)
		if p == nil {
			return s, fmt.Errorf("kit: --server-ip %q is not an IP address", ip)
		}
		s.ServerIPs = append(s.ServerIPs, p)
	}
	var err error
	if s.ServerLayout, err = kit.Find(layouts, o.layouts.server); err != nil {
		return s, err
	}
	s.ClientLayout, err = kit.Find(layouts, o.layouts.client)
	return s, err
}

// kitView is what kit create prints.
type kitView struct {
	Dir        string        `json:"dir"`
	CA         string        `json:"ca"`
	Root       string        `json:"root"`
	RootSHA256 string        `json:"root_sha256"`
	Parts      []kitPartView `json:"parts"`
	// BackupDir holds the files --force replaced; "" when none.
	BackupDir string `json:"backup_dir,omitempty"`
}

type kitPartView struct {
	Dir      string        `json:"dir"`
	Role     string        `json:"role"`
	Name     string        `json:"name,omitempty"`
	Layout   string        `json:"layout"`
	Subject  string        `json:"subject"`
	SANs     []string      `json:"sans,omitempty"`
	SHA256   string        `json:"sha256"`
	NotAfter time.Time     `json:"not_after"`
	Files    []kitFileView `json:"files"`
}

type kitFileView struct {
	Path    string `json:"path"`
	Content string `json:"content"`
	Mode    string `json:"mode"`
}

func newKitView(dir, caName string, k *kit.Kit) *kitView {
	v := &kitView{Dir: dir, CA: caName, Root: k.Root.Subject.String(), RootSHA256: inventory.SHA256Hex(k.Root.Raw)}
	for _, p := range k.Parts {
		c := p.Issued.Certificate
		pv := kitPartView{Dir: filepath.Join(dir, filepath.FromSlash(p.Dir)), Role: p.Role, Name: p.Name, Layout: p.Layout,
			Subject: c.Subject.String(), SANs: inventory.SANs(c), SHA256: inventory.SHA256Hex(c.Raw), NotAfter: c.NotAfter.UTC()}
		for _, f := range p.Files {
			pv.Files = append(pv.Files, kitFileView{Path: filepath.Join(pv.Dir, filepath.FromSlash(f.Path)),
				Content: string(f.Content), Mode: fmt.Sprintf("%04o", uint32(f.Mode))})
		}
		v.Parts = append(v.Parts, pv)
	}
	return v
}

func (v *kitView) writeText(w io.Writer) error {
	fmt.Fprintf(w, "kit written to %s from CA %s (root %s, SHA-256 %s)\n", v.Dir, v.CA, v.Root, colonHex(v.RootSHA256))
	for _, p := range v.Parts {
		who := p.Role
		if p.Name != "" {
			who += " " + p.Name
		}
		fmt.Fprintf(w, "%s (%s): %s", who, p.Layout, p.Subject)
		if len(p.SANs) > 0 {
			fmt.Fprintf(w, ", names %s", strings.Join(p.SANs, ", "))
		}
		fmt.Fprintf(w, ", expires %s\n", p.NotAfter.Format("2006-01-02"))
		for _, f := range p.Files {
			fmt.Fprintf(w, "  %s  %s  %s\n", f.Mode, f.Path, f.Content)
		}
	}
	if v.BackupDir != "" {
		fmt.Fprintf(w, "replaced files were backed up to %s\n", v.BackupDir)
	}
	server, client := filepath.Join(v.Dir, "server"), v.Parts[len(v.Parts)-1]
	if client.Role != "client" {
		_, err := fmt.Fprintf(w, "add clients: certkeeper kit create --out %s --clients-only --client NAME\n", v.Dir)
		return err
	}
	_, err := fmt.Fprintf(w, "check a pair: certkeeper kit verify --server %s --client %s\n", server, client.Dir)
	return err
}

type kitVerifyOptions struct {
	server      string
	clients     []string
	peer        bool
	serverNames []string
	warnDays    int
	json        bool
	layouts     layoutFlags
}

func (a *app) kitVerifyCommand() *cobra.Command {
	var o kitVerifyOptions
	cmd := &cobra.Command{
		Use:   "verify --server DIR --client DIR... | --peer DIR DIR",
		Short: "Check that a server and its clients (or two peers) will accept each other",
		Long: "verify reads the kit directories (the layout is found from the file names, or named\n" +
			"with --server-layout/--client-layout) and checks: the same root on both sides, each side\n" +
			"trusting the other's certificate, key usages (serverAuth, clientAuth), each key matching\n" +
			"its certificate, validity (a warning under --warn-days), the server's names, and then a\n" +
			"real mutual-TLS handshake in memory. Failures are explained in plain words; the exit\n" +
			"status is 1 when any check fails.\n\n" +
			"--peer DIR DIR checks two servers that must share a root: each certificate for server\n" +
			"use, the same root, each trusting the other, and a handshake in both directions when\n" +
			"both certificates also allow clientAuth (otherwise the roots are compared only).",
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case o.peer && len(args) != 2:
				return fmt.Errorf("kit: --peer needs the two peer server directories, got %d", len(args))
			case !o.peer && len(args) > 0:
				return fmt.Errorf("kit: unexpected argument %q (directories go after --server, --client or --peer)", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return a.runKitVerify(cmd, &o, args) },
	}
	f := cmd.Flags()
	f.StringVar(&o.server, "server", "", "server directory")
	f.StringArrayVar(&o.clients, "client", nil, "client directory (repeatable)")
	f.BoolVar(&o.peer, "peer", false, "check the two peer server directories given as arguments")
	f.StringArrayVar(&o.serverNames, "server-name", nil, "name clients use to reach the server; the certificate must cover it (repeatable)")
	f.IntVar(&o.warnDays, "warn-days", 30, "warn about certificates expiring within this many days")
	f.BoolVar(&o.json, "json", false, "print the checks as JSON")
	o.layouts.bind(cmd, "", "")
	return cmd
}

func (a *app) runKitVerify(cmd *cobra.Command, o *kitVerifyOptions, args []string) error {
	layouts, err := a.kitLayouts(cmd, &o.layouts)
	if err != nil {
		return err
	}
	opts := kit.Options{ServerNames: o.serverNames, Now: a.env.Now, WarnWithin: time.Duration(o.warnDays) * 24 * time.Hour}
	var r *kit.Report
	var sides []*kit.Side
	if o.peer {
		sides, err = loadSides(layouts, o.layouts.server, [][2]string{{"peer " + args[0], args[0]}, {"peer " + args[1], args[1]}})
		if err == nil {
			r = kit.VerifyPeers(sides[0], sides[1], opts)
		}
	} else {
		sides, err = o.loadPair(layouts)
		if err == nil {
			r = kit.Verify(sides[0], sides[1:], opts)
		}
	}
	if err != nil {
		return err
	}
	if err := a.printReport(r, sides, o.json); err != nil {
		return err
	}
	if !r.OK() {
		return fmt.Errorf("kit: verify: %d of %d checks failed; these sides will not work together", r.Count(kit.Fail), len(r.Checks))
	}
	return nil
}

func (o *kitVerifyOptions) loadPair(layouts []kit.Layout) ([]*kit.Side, error) {
	if o.server == "" || len(o.clients) == 0 {
		return nil, fmt.Errorf("kit: verify needs --server DIR and --client DIR (or --peer DIR DIR)")
	}
	server, err := loadSides(layouts, o.layouts.server, [][2]string{{"server", o.server}})
	if err != nil {
		return nil, err
	}
	var dirs [][2]string
	for _, c := range o.clients {
		label := "client"
		if len(o.clients) > 1 {
			label += " " + filepath.Base(filepath.Clean(c))
		}
		dirs = append(dirs, [2]string{label, c})
	}
	clients, err := loadSides(layouts, o.layouts.client, dirs)
	return append(server, clients...), err
}

// loadSides reads each (label, dir) in the named layout, or the layout its
// files match when name is "".
func loadSides(layouts []kit.Layout, name string, dirs [][2]string) ([]*kit.Side, error) {
	var out []*kit.Side
	for _, d := range dirs {
		l, err := pickLayout(layouts, name, d[1])
		if err != nil {
			return nil, err
		}
		s, err := kit.Load(d[0], d[1], l)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func pickLayout(layouts []kit.Layout, name, dir string) (kit.Layout, error) {
	if name != "" {
		return kit.Find(layouts, name)
	}
	return kit.Detect(dir, layouts)
}

// kitVerifyView is kit verify's JSON output.
type kitVerifyView struct {
	OK     bool          `json:"ok"`
	Sides  []kitSideView `json:"sides"`
	Checks []kit.Check   `json:"checks"`
}

type kitSideView struct {
	Label   string `json:"label"`
	Dir     string `json:"dir"`
	Layout  string `json:"layout"`
	Subject string `json:"subject"`
	SHA256  string `json:"sha256"`
}

func (a *app) printReport(r *kit.Report, sides []*kit.Side, asJSON bool) error {
	if !asJSON {
		for _, s := range sides {
			fmt.Fprintf(a.env.Stdout, "%s: %s (layout %s), %s\n", s.Label, s.Dir, s.Layout, s.Leaf.Subject)
		}
		return r.WriteText(a.env.Stdout)
	}
	v := kitVerifyView{OK: r.OK(), Checks: r.Checks}
	for _, s := range sides {
		v.Sides = append(v.Sides, kitSideView{Label: s.Label, Dir: s.Dir, Layout: s.Layout,
			Subject: s.Leaf.Subject.String(), SHA256: inventory.SHA256Hex(s.Leaf.Raw)})
	}
	return writeJSON(a.env.Stdout, v)
}
