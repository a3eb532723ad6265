package testenv

import (
	"crypto/tls"
	"os/exec"
	"strconv"
	"testing"
)

func TestStartNginx(t *testing.T) {
	servers := []NginxServer{{Name: "a.example.test"}, {Name: "b.example.test"}}
	n := StartNginx(t, servers)
	if servers[0].Listen == "" || servers[0].Listen != n.Servers[0].Listen {
		t.Fatalf("Listen not filled in: got %q, Servers %q", servers[0].Listen, n.Servers[0].Listen)
	}
	for _, s := range n.Servers {
		conf := &tls.Config{InsecureSkipVerify: true, ServerName: s.Name} //nolint:gosec // test
		c, err := tls.Dial("tcp", s.Listen, conf)
		if err != nil {
			t.Fatalf("dial %s: %v", s.Listen, err)
		}
		c.Close()
	}
	for _, cmd := range []string{n.TestCommand(), n.ReloadCommand()} {
		if out, err := exec.Command("/bin/sh", "-c", cmd).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, out)
		}
	}
}

func TestStartNginxManyServers(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	servers := make([]NginxServer, 200)
	shared := FreeAddr(t)
	for i := range servers {
		servers[i].Name = "s" + strconv.Itoa(i) + ".example.test"
		if i%2 == 0 {
			servers[i].Listen = shared
		}
	}
	n := StartNginx(t, servers)
	if out, err := exec.Command("/bin/sh", "-c", n.TestCommand()).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", n.TestCommand(), err, out)
	}
}
