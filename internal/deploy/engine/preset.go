package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/kit"
)

// Preset says how one kind of server takes its certificate: the files
// written (a kit layout: names, contents, formats, modes), the command
// that tests the server's configuration, the command that reloads it,
// and install steps for people installing by hand.
type Preset struct {
	Layout        kit.Layout
	TestCommand   string
	ReloadCommand string
	// Instructions are plain-text install steps for the conventional
	// package's README; the file names are those of Layout.
	Instructions string
	// Builtin is false for user layouts.
	Builtin bool
}

// Name is the preset's name, its layout's.
func (p Preset) Name() string { return p.Layout.Name }

// NeedsPassword reports whether a file of the preset is a password-
// protected key store (PKCS#12 or JKS).
func (p Preset) NeedsPassword() bool {
	return slices.ContainsFunc(p.Layout.Files, func(f kit.File) bool {
		return f.Content == kit.ContentPKCS12 || f.Content == kit.ContentJKS
	})
}

// Built-in presets.
var builtin = []Preset{
	{
		Layout: kit.Layout{Name: "nginx", Files: []kit.File{
			{Path: "fullchain.pem", Content: kit.ContentFullchain},
			{Path: "privkey.pem", Content: kit.ContentKey},
		}},
		TestCommand:   "nginx -t",
		ReloadCommand: "nginx -s reload",
		Instructions: `1. Copy fullchain.pem and privkey.pem into the directory your server block names
   (keep privkey.pem readable by root only: chmod 600 privkey.pem).
2. In the server block:
     ssl_certificate     /PATH/fullchain.pem;
     ssl_certificate_key /PATH/privkey.pem;
3. Test the configuration: nginx -t
4. Reload: nginx -s reload   (or: systemctl reload nginx)`,
	},
	{
		Layout: kit.Layout{Name: "apache", Files: []kit.File{
			{Path: "cert.pem", Content: kit.ContentCert},
			{Path: "chain.pem", Content: kit.ContentChain},
			{Path: "fullchain.pem", Content: kit.ContentFullchain},
			{Path: "privkey.pem", Content: kit.ContentKey},
		}},
		TestCommand:   "apachectl configtest",
		ReloadCommand: "apachectl graceful",
		Instructions: `1. Copy the files into the directory your virtual host names
   (keep privkey.pem readable by root only: chmod 600 privkey.pem).
2. In the <VirtualHost *:443> block (Apache httpd 2.4.8 or later):
     SSLCertificateFile    /PATH/fullchain.pem
     SSLCertificateKeyFile /PATH/privkey.pem
   Older versions: SSLCertificateFile cert.pem and SSLCertificateChainFile chain.pem.
3. Test the configuration: apachectl configtest
4. Reload without dropping connections: apachectl graceful`,
	},
	{
		Layout: kit.Layout{Name: "haproxy", Files: []kit.File{
			{Path: "haproxy.pem", Content: kit.ContentCombined},
		}},
		TestCommand:   "haproxy -c -f /etc/haproxy/haproxy.cfg",
		ReloadCommand: "systemctl reload haproxy",
		Instructions: `1. Copy haproxy.pem (certificate, intermediates and key in one file) to the
   path your frontend names; keep it readable by root only (chmod 600).
2. In the frontend:  bind :443 ssl crt /PATH/haproxy.pem
3. Test the configuration: haproxy -c -f /etc/haproxy/haproxy.cfg
4. Reload: systemctl reload haproxy`,
	},
	{
		Layout: kit.Layout{Name: "tomcat-pkcs12", Files: []kit.File{
			{Path: "keystore.p12", Content: kit.ContentPKCS12},
		}},
		ReloadCommand: "systemctl restart tomcat",
		Instructions: `1. Copy keystore.p12 to the path your connector names (for example conf/),
   owned by the user Tomcat runs as (tomcat on Debian): it is readable by its
   owner only (chmod 600), and Tomcat reads it after dropping root.
2. In server.xml, on the HTTPS <Connector>:
     <SSLHostConfig><Certificate certificateKeystoreFile="conf/keystore.p12"
       certificateKeystoreType="PKCS12" certificateKeystorePassword="PASSWORD"/></SSLHostConfig>
   The password is the key-store password set on the target. Name no
   certificateKeyAlias: the key entry has no friendly name (Java calls it "1"),
   and Tomcat takes the store's only key entry.
3. Restart Tomcat: systemctl restart tomcat   (tomcat10 on Debian and Ubuntu)`,
	},
	{
		Layout: kit.Layout{Name: "tomcat-jks", Files: []kit.File{
			{Path: "keystore.jks", Content: kit.ContentJKS},
		}},
		ReloadCommand: "systemctl restart tomcat",
		Instructions: `1. Copy keystore.jks to the path your connector names (for example conf/),
   owned by the user Tomcat runs as (tomcat on Debian): it is readable by its
   owner only (chmod 600), and Tomcat reads it after dropping root.
2. In server.xml, on the HTTPS <Connector>:
     <SSLHostConfig><Certificate certificateKeystoreFile="conf/keystore.jks"
       certificateKeystoreType="JKS" certificateKeystorePassword="PASSWORD"
       certificateKeyAlias="certkeeper"/></SSLHostConfig>
   The password is the key-store password set on the target.
3. Restart Tomcat: systemctl restart tomcat   (tomcat10 on Debian and Ubuntu)`,
	},
	{
		Layout:        kit.LicenseServer,
		ReloadCommand: "systemctl restart licensed",
		Instructions: `1. Stop the emulators that use this license server.
2. Back up the current files: mkdir -p certs/Backup && cp certs/* certs/Backup/
3. Copy ca.crt, server.crt, server.key, web-server.pem and web-ca.cer into the
   license server's certs directory (server.key readable by root only).
4. Restart the license server: systemctl restart licensed
5. Give every client the same ca.crt (license-client layout), then restart them.`,
	},
	{
		Layout: kit.LicenseClient,
		Instructions: `1. Stop the emulator and its guest system cleanly.
2. Back up the current files: mkdir -p certs/Backup && cp certs/* certs/Backup/
3. Copy ca.crt, charon.crt and charon.key into the emulator's certs directory
   (charon.key readable by root only).
4. Start the emulator again; the license server log shows its registration.`,
	},
	{
		Layout: kit.Layout{Name: "certkeeper", Files: []kit.File{
			{Path: "web-server.pem", Content: kit.ContentCombined},
		}},
		Instructions: `1. Copy web-server.pem into the certkeeper data directory's certs folder
   (DATA-DIR/certs/web-server.pem), replacing the file with mv so it is never
   read half-written. certkeeper serves it within seconds; no restart.`,
	},
	{
		Layout: kit.Layout{Name: "generic", Files: []kit.File{
			{Path: "cert.pem", Content: kit.ContentCert},
			{Path: "chain.pem", Content: kit.ContentChain},
			{Path: "fullchain.pem", Content: kit.ContentFullchain},
			{Path: "privkey.pem", Content: kit.ContentKey},
		}},
		Instructions: `1. Copy the files where your server expects them:
     cert.pem       the certificate alone
     chain.pem      the issuing CA certificates
     fullchain.pem  the certificate followed by its intermediates
     privkey.pem    the private key (PKCS#8; keep it readable by the server only)
2. Point the server's configuration at them, then reload or restart it.`,
	},
}

// Builtin returns the built-in presets.
func Builtin() []Preset {
	out := slices.Clone(builtin)
	for i := range out {
		out[i].Builtin = true
	}
	return out
}

// FromLayout turns a stored user layout into a preset, validating it.
// l.Files is the "files" array of a kit layout file (docs/kit.md).
func FromLayout(l inventory.DeployLayout) (Preset, error) {
	name, err := json.Marshal(l.Name)
	if err != nil {
		return Preset{}, err
	}
	doc := fmt.Sprintf(`{"layouts":[{"name":%s,"files":%s}]}`, name, l.Files)
	layouts, err := kit.ParseLayouts([]byte(doc))
	if err != nil {
		return Preset{}, fmt.Errorf("deploy: layout %s: %w", l.Name, err)
	}
	return Preset{Layout: layouts[0], TestCommand: l.TestCommand,
		ReloadCommand: l.ReloadCommand, Instructions: l.Instructions}, nil
}

// FindPreset returns the preset called name among presets, with a
// one-line error listing the names when there is none.
func FindPreset(presets []Preset, name string) (Preset, error) {
	for _, p := range presets {
		if p.Name() == name {
			return p, nil
		}
	}
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.Name()
	}
	return Preset{}, fmt.Errorf("deploy: unknown preset %q (known: %s)", name, strings.Join(names, ", "))
}
