package testenv

import (
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestStartSSHD(t *testing.T) {
	s := StartSSHD(t)
	signer, err := ssh.ParsePrivateKey(s.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	hostKey, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s.HostKey))
	if err != nil {
		t.Fatal(err)
	}
	conf := &ssh.ClientConfig{User: s.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(hostKey)}
	c, err := ssh.Dial("tcp", s.Addr, conf)
	if err != nil {
		t.Fatalf("dial: %v\n%s", err, s.Log())
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out, err := sess.CombinedOutput("echo hello")
	if err != nil || strings.TrimSpace(string(out)) != "hello" {
		t.Fatalf("echo hello: got %q, %v; want hello", out, err)
	}
}
