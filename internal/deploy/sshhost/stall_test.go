package sshhost

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/internal/deploytest"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// stallProxy forwards TCP connections to a server until stall is called;
// from then on it passes nothing either way, like a peer that hangs
// without closing the connection.
type stallProxy struct {
	addr    string
	stalled chan struct{}
	once    sync.Once
}

func startStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{addr: ln.Addr().String(), stalled: make(chan struct{})}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			wg.Go(func() { p.pipe(s, c) })
			wg.Go(func() { p.pipe(c, s) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return p
}

// stall stops the forwarding.
func (p *stallProxy) stall() { p.once.Do(func() { close(p.stalled) }) }

// pipe copies src to dst until either closes; once stalled, what src
// sends is dropped.
func (p *stallProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-p.stalled:
			n = 0
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// dialThrough logs in to s through proxy with idle as the idle timeout.
func dialThrough(t *testing.T, s *testenv.SSHD, proxy *stallProxy, idle time.Duration) *Host {
	t.Helper()
	c := sshConfig(t, s)
	c.Access.Host, c.Access.Port = deploytest.SplitAddr(t, proxy.addr)
	c.IdleTimeout = idle
	h, err := Dial(context.Background(), c)
	if err != nil {
		t.Fatalf("Dial: %v\n%s", err, s.Log())
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// stallOnWrite is a host whose server stalls when the install writes
// file.
type stallOnWrite struct {
	engine.Host
	file  string
	stall func()
}

func (h stallOnWrite) WriteFile(ctx context.Context, name string, data []byte, mode fs.FileMode, owner string) error {
	if name == h.file {
		h.stall()
	}
	return h.Host.WriteFile(ctx, name, data, mode, owner)
}

// await returns what result delivers, failing the test when it takes more
// than limit.
func await(t *testing.T, result <-chan error, limit time.Duration, what string) error {
	t.Helper()
	select {
	case err := <-result:
		return err
	case <-time.After(limit):
		t.Fatalf("%s still waits for the stalled server after %s", what, limit)
		return nil
	}
}

// TestStalledServerFailsTheInstall: a server that stops answering in the
// middle of an install fails it with ErrStalled within a few idle
// timeouts, even under a context that never ends (as the service's
// install queue runs).
func TestStalledServerFailsTheInstall(t *testing.T) {
	s := testenv.StartSSHD(t)
	proxy := startStallProxy(t, s.Addr)
	h := dialThrough(t, s, proxy, time.Second)
	dir := filepath.Join(t.TempDir(), "certs")
	p := deploytest.Plan(t, dir)
	host := stallOnWrite{Host: h, file: filepath.Join(dir, "privkey.pem"), stall: proxy.stall}
	result := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := engine.Apply(context.Background(), host, p, deploytest.Now)
		result <- err
	}()
	err := await(t, result, 30*time.Second, "the install")
	if !errors.Is(err, ErrStalled) || !strings.Contains(err.Error(), "the server stopped answering") {
		t.Fatalf("Apply through a stalled server: %v; want ErrStalled", err)
	}
	t.Logf("failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	if _, _, err := h.ReadFile(context.Background(), filepath.Join(dir, "fullchain.pem")); !errors.Is(err, ErrStalled) {
		t.Errorf("ReadFile after the stall: %v; want ErrStalled at once", err)
	}
}

// TestStalledServerHonoursContext: with an idle timeout that would wait
// for an hour, an SFTP operation and a command on a stalled server end
// when their context does.
func TestStalledServerHonoursContext(t *testing.T) {
	s := testenv.StartSSHD(t)
	ops := map[string]func(ctx context.Context, h *Host) error{
		"ReadFile": func(ctx context.Context, h *Host) error {
			_, _, err := h.ReadFile(ctx, "/etc/hostname")
			return err
		},
		"Run": func(ctx context.Context, h *Host) error {
			_, err := h.Run(ctx, "true", time.Hour)
			return err
		},
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			proxy := startStallProxy(t, s.Addr)
			h := dialThrough(t, s, proxy, time.Hour)
			proxy.stall()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			result := make(chan error, 1)
			go func() { result <- op(ctx, h) }()
			if err := await(t, result, 20*time.Second, name); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s on a stalled server: %v; want the context's deadline", name, err)
			}
		})
	}
}

// TestQuietCommandOutlivesIdleTimeout: a command that prints nothing for
// longer than the idle timeout still runs to its end: the keepalives and
// their answers keep data flowing.
func TestQuietCommandOutlivesIdleTimeout(t *testing.T) {
	s := testenv.StartSSHD(t)
	proxy := startStallProxy(t, s.Addr)
	h := dialThrough(t, s, proxy, 600*time.Millisecond)
	out, err := h.Run(context.Background(), "sleep 2; echo done", time.Minute)
	if err != nil || strings.TrimSpace(out) != "done" {
		t.Fatalf("Run: %q, %v; want done", out, err)
	}
}
