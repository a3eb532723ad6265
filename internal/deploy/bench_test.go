package deploy_test

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/deploy"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/probe"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
	"github.com/certkeeper/certkeeper/internal/truststore"
)

// benchSites is how many targets BenchmarkDeploy200 deploys to.
const benchSites = 200

// benchFleet is one nginx with benchSites server blocks on one address
// (told apart by SNI), a directory target per block, and a certificate
// per target issued by the built-in CA.
type benchFleet struct {
	svc   *deploy.Service
	nginx *testenv.Nginx
	addr  string
	dirs  []string
	ids   []int64 // deployment IDs
	names []string
	files [][2][]byte // fullchain and key PEM per site, for the raw baseline
}

func newBenchFleet(b *testing.B) *benchFleet {
	b.Helper()
	ctx := b.Context()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "ck.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	master := make([]byte, keys.MasterKeySize)
	rand.Read(master)
	sealer, err := keys.NewSealer(nil, master)
	if err != nil {
		b.Fatal(err)
	}
	auth := ca.New(st, sealer, ca.Config{})
	if _, _, err := auth.EnsureDefault(ctx); err != nil {
		b.Fatal(err)
	}
	f := &benchFleet{svc: deploy.NewService(st, sealer, deploy.ServiceOptions{CheckTimeout: 10 * time.Second,
		Trust: truststore.New(st, truststore.Options{})})}
	listen := testenv.FreeAddr(b)
	servers := make([]testenv.NginxServer, benchSites)
	root := b.TempDir()
	for i := range benchSites {
		name := fmt.Sprintf("site-%03d.test", i)
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		servers[i] = testenv.NginxServer{Listen: listen, Name: name,
			CertFile: filepath.Join(dir, "fullchain.pem"), KeyFile: filepath.Join(dir, "privkey.pem")}
		f.dirs, f.names = append(f.dirs, dir), append(f.names, name)
	}
	f.nginx = testenv.StartNginx(b, servers)
	f.addr = listen
	_, port, _ := net.SplitHostPort(listen)
	p, _ := strconv.Atoi(port)
	for i, name := range f.names {
		iss, err := auth.Issue(ctx, ca.Request{Requester: ca.Admin("test"), Profile: ca.TLSServer, DNSNames: []string{name}, Actor: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		t, err := f.svc.CreateTarget(ctx, "bench", deploy.TargetInput{Name: name, Preset: "nginx",
			Method: inventory.MethodDirectory, Directory: f.dirs[i],
			TestCommand: ptr(f.nginx.TestCommand()), ReloadCommand: ptr(f.nginx.ReloadCommand()),
			Check: inventory.CheckSpec{Host: "127.0.0.1", Port: p, SNI: name}})
		if err != nil {
			b.Fatal(err)
		}
		d, _, err := f.svc.Start(ctx, "bench", iss.Record.ID, t.ID)
		if err != nil {
			b.Fatal(err)
		}
		f.ids = append(f.ids, d.ID)
		f.files = append(f.files, benchFiles(b, iss))
	}
	return f
}

// benchFiles is what the nginx preset writes for iss, made by hand.
func benchFiles(b *testing.B, iss *ca.Issued) [2][]byte {
	var chain []byte
	for _, c := range append([]*x509.Certificate{iss.Certificate}, iss.Chain[:len(iss.Chain)-1]...) {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	der, err := x509.MarshalPKCS8PrivateKey(iss.Key)
	if err != nil {
		b.Fatal(err)
	}
	return [2][]byte{chain, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})}
}

// each runs fn for every site with c workers and returns the wall time.
func each(c int, fn func(i int) error) (time.Duration, error) {
	start := time.Now()
	work := make(chan int)
	errs := make(chan error, benchSites)
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for i := range work {
				if err := fn(i); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range benchSites {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	return time.Since(start), <-errs
}

// BenchmarkDeploy200 deploys and checks 200 directory targets served by
// one nginx with 200 server blocks, through the deployment service (files
// backed up and written atomically, `nginx -t`, `nginx -s reload`, the
// deploy check with its settling retries, every step stored), with 8
// and with 32 installs at a time (installs queued for the server share
// one test and one reload). The raw sub-benchmark is the floor for the same
// fleet: write the two files and complete one TLS handshake per site,
// with no test, reload, store or check logic. nginx-commands is one
// `nginx -t` and one `nginx -s reload` of the 200-block configuration:
// installs to sites of one server take turns for these (see serverKey),
// so 200 of them bound the service's total from below.
func BenchmarkDeploy200(b *testing.B) {
	f := newBenchFleet(b)
	for _, workers := range []int{8, 32} {
		b.Run(fmt.Sprintf("service-c%d", workers), func(b *testing.B) {
			for b.Loop() {
				total, err := each(workers, func(i int) error {
					d, err := f.svc.Install(b.Context(), "bench", f.ids[i])
					if err == nil && d.State != inventory.DeployConfirmed {
						err = fmt.Errorf("%s: state %s: %+v", f.names[i], d.State, d.LastCheck)
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				report(b, total, workers)
			}
		})
	}
	b.Run("nginx-commands", func(b *testing.B) {
		for b.Loop() {
			for _, c := range []string{f.nginx.TestCommand(), f.nginx.ReloadCommand()} {
				if out, err := exec.Command("/bin/sh", "-c", c).CombinedOutput(); err != nil {
					b.Fatalf("%s: %v: %s", c, err, out)
				}
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		const workers = 8
		for b.Loop() {
			total, err := each(workers, func(i int) error {
				if err := os.WriteFile(filepath.Join(f.dirs[i], "fullchain.pem"), f.files[i][0], 0o644); err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(f.dirs[i], "privkey.pem"), f.files[i][1], 0o600); err != nil {
					return err
				}
				_, err := probe.TLS(b.Context(), f.addr, probe.Options{ServerName: f.names[i]})
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			report(b, total, workers)
		}
	})
}

func report(b *testing.B, total time.Duration, workers int) {
	b.ReportMetric(total.Seconds(), "s/200targets")
	b.ReportMetric(float64(total.Milliseconds())/benchSites, "ms/target")
	b.ReportMetric(float64(workers), "concurrency")
}
