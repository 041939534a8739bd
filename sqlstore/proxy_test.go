package sqlstore_test

import (
	"bytes"
	"database/sql"
	"io"
	"net"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/sqlstore"
)

// proxy forwards TCP connections to a database server and cuts them on
// demand: when the client sends the n-th message holding a marker, the
// proxy closes both sides before the server sees it. The store then
// loses its connection in the middle of a batch or a transaction, as it
// would when a network link or the server fails.
type proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	marker []byte
	after  int // cut on this occurrence of marker (1 = the first)
	seen   int
	conns  map[net.Conn]bool
	cuts   atomic.Int32
	closed bool
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

// cutOn arms the proxy: the n-th client write holding marker, counted from
// now, cuts its connection. One cut per call.
func (p *proxy) cutOn(marker string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.marker, p.after, p.seen = []byte(marker), n, 0
}

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	_ = p.ln.Close()
}

func (p *proxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = client.Close()
			_ = server.Close()
			return
		}
		p.conns[client], p.conns[server] = true, true
		p.mu.Unlock()
		go func() { _, _ = io.Copy(client, server); p.drop(client, server) }()
		go p.upstream(client, server)
	}
}

func (p *proxy) drop(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		_ = c.Close()
		delete(p.conns, c)
	}
}

// upstream copies client to server, watching for the marker.
func (p *proxy) upstream(client, server net.Conn) {
	defer p.drop(client, server)
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			if p.shouldCut(buf[:n]) {
				p.cuts.Add(1)
				return
			}
			if _, werr := server.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) shouldCut(b []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.marker == nil || !bytes.Contains(b, p.marker) {
		return false
	}
	p.seen++
	if p.seen < p.after {
		return false
	}
	p.marker = nil
	return true
}

// proxiedDB opens a *sql.DB on b's server (PostgreSQL or MySQL) reached
// through a proxy that cuts connections on demand.
func proxiedDB(t *testing.T, b backend) (*sql.DB, *proxy) {
	t.Helper()
	var driver, dsn string
	var p *proxy
	switch b.dialect {
	case sqlstore.PostgreSQL:
		u, err := url.Parse(os.Getenv(envPostgres))
		require.NoError(t, err)
		target := u.Host
		if u.Port() == "" {
			target = net.JoinHostPort(u.Hostname(), "5432")
		}
		p = startProxy(t, target)
		u.Host = p.addr()
		driver, dsn = "pgx", u.String()
	case sqlstore.MySQL:
		cfg, err := mysql.ParseDSN(os.Getenv(envMySQL))
		require.NoError(t, err)
		p = startProxy(t, cfg.Addr)
		cfg.Addr = p.addr()
		driver, dsn = "mysql", cfg.FormatDSN()
	default:
		t.Fatalf("no proxy for %s", b.dialect)
	}
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	db.SetMaxOpenConns(4)
	t.Cleanup(func() { _ = db.Close() })
	return db, p
}
