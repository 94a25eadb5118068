// Package console is the operator's web console: a few server-rendered
// pages (buckets and their encryption coverage, KMS keys, users, recent
// refusals, background jobs) on a listener of its own, for the root
// account. It reads, and writes one thing: a bucket's default encryption,
// through the same service call as the S3 API's PutBucketEncryption.
//
// Security: login with an access key and its secret (compared in constant
// time); a random session id in an HttpOnly, SameSite=Strict cookie
// (Secure and __Host- under TLS) whose expiry is kept on the server; every
// POST carries the session's CSRF token and must come from the console's
// own origin; pages forbid framing, scripts and outside resources by
// Content-Security-Policy.
package console

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/service"
)

//go:embed templates/*.html static/*
var files embed.FS

// Config is what the console shows and acts through.
type Config struct {
	Service *service.Service // bucket configuration, as the S3 API reads and writes it
	IAM     *iam.IAM         // login, users
	Meta    meta.Store       // buckets, the coverage counters, the bounded object scan
	Keys    kms.KeyAdmin     // KMS keys
	Jobs    *jobs.Engine     // background jobs
	Denials *audit.Ring      // recent refusals
	Audit   audit.Logger     // the console's own write and logins
	Logger  *slog.Logger
	// TLS: the console is served over HTTPS (Secure cookies, https
	// origins).
	TLS bool
	// ScanLimit bounds the object versions one count of objects per
	// bucket and per key looks at (default DefaultScanLimit).
	ScanLimit int
	// Now is the sessions' clock (tests); default time.Now.
	Now func() time.Time
}

// DefaultScanLimit is the default Config.ScanLimit.
const DefaultScanLimit = 100_000

// Console serves the operator console.
type Console struct {
	cfg      Config
	log      *slog.Logger
	secure   bool
	sessions *sessions
	pages    map[string]*template.Template
	mux      *http.ServeMux
	counts   *countCache
}

// Page names (their templates are templates/NAME.html).
var pageNames = []string{"login", "buckets", "bucket", "keys", "users", "denials", "jobs"}

// New returns the console for cfg.
func New(cfg Config) (*Console, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ScanLimit <= 0 {
		cfg.ScanLimit = DefaultScanLimit
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	c := &Console{cfg: cfg, log: log, secure: cfg.TLS, sessions: newSessions(cfg.Now), pages: map[string]*template.Template{},
		counts: newCountCache(cfg.Meta, cfg.ScanLimit)}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		c.pages[name] = t
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, err
	}
	m := http.NewServeMux()
	m.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(static)))
	m.HandleFunc("GET /login", c.loginPage)
	m.HandleFunc("POST /login", c.login)
	m.HandleFunc("POST /logout", c.authed(c.logout))
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/buckets", http.StatusSeeOther) })
	m.HandleFunc("GET /buckets", c.authed(c.bucketsPage))
	m.HandleFunc("GET /buckets/{name}", c.authed(c.bucketPage))
	m.HandleFunc("POST /buckets/{name}/encryption", c.authed(c.setEncryption))
	m.HandleFunc("GET /keys", c.authed(c.keysPage))
	m.HandleFunc("GET /users", c.authed(c.usersPage))
	m.HandleFunc("GET /denials", c.authed(c.denialsPage))
	m.HandleFunc("GET /jobs", c.authed(c.jobsPage))
	c.mux = m
	return c, nil
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if c.secure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.mux.ServeHTTP(w, r)
}

func staticFiles(fsys fs.FS) http.Handler {
	fh := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fh.ServeHTTP(w, r)
	})
}

// authed runs h for a request with a live session; POSTs must also come
// from the console's origin and carry the session's CSRF token. A GET
// without a session goes to the login page.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss := c.session(r)
		if ss == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		// The session's rights are checked again on every request: a key
		// disabled since the login ends its sessions.
		if !c.allowed(r.Context(), ss.accessKey) {
			c.sessions.remove(ss.id)
			c.setCookie(w, "", -1)
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if !c.sameOrigin(r) || !validCSRF(ss, r) {
				c.refuse(r, ss.user, ss.accessKey, "cross-origin request or missing CSRF token")
				http.Error(w, "forbidden: cross-origin request or missing CSRF token", http.StatusForbidden)
				return
			}
		}
		h(w, r, ss)
	}
}

// allowed reports whether an access key may use the console: the root
// account's, as for the admin API (users' policies grant S3 actions, not
// administration).
func (c *Console) allowed(ctx context.Context, accessKey string) bool {
	p, err := c.cfg.IAM.Principal(ctx, accessKey)
	return err == nil && p.Root
}

// refuse audits a refused console request.
func (c *Console) refuse(r *http.Request, user, accessKey, reason string) {
	audit.Record(r.Context(), c.cfg.Audit, audit.Event{Type: audit.TypeDenied, Action: "console " + r.Method + " " + r.URL.Path,
		Outcome: audit.Denied, Principal: user, AccessKey: accessKey, Source: clientAddr(r), Dialect: "console", Reason: reason})
}

// view is what every page template gets.
type view struct {
	Title   string
	Page    string // nav entry to highlight
	User    string
	CSRF    string
	Error   string
	Notice  string
	Partial bool // some counts stopped at the scan limit
	Limit   int64
	Data    any
}

// view starts the view of a page for a signed-in operator.
func (ss *session) view(title, page string, data any) view {
	return view{Title: title, Page: page, User: ss.user, CSRF: ss.csrf, Data: data}
}

// counted marks a view whose figures come from a count of versions.
func (c *Console) counted(v view, cs *counts) view {
	v.Partial, v.Limit = cs.Partial, int64(c.cfg.ScanLimit)
	return v
}

// render executes a page into a buffer first, so a template error is a
// clean 500 and not half a page.
func (c *Console) render(w http.ResponseWriter, status int, name string, v view) {
	var buf bytes.Buffer
	if err := c.pages[name].Execute(&buf, v); err != nil {
		c.log.Error("console: rendering page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	c.log.Error("console: page failed", "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if c.session(r) != nil {
		http.Redirect(w, r, "/buckets", http.StatusSeeOther)
		return
	}
	c.render(w, http.StatusOK, "login", view{Title: "Sign in"})
}

// Login outcomes shown to the browser: one message for every wrong
// credential, so the page tells nothing about which part was wrong.
const (
	msgBadLogin  = "The access key or secret key is wrong."
	msgNotAdmin  = "The console is for the root account only."
	msgThrottled = "Too many failed sign-ins from this address; try again in a few minutes."
)

// login checks an access key and secret against the identities, as the
// signature check does (constant-time comparison of the secret), and
// starts a session for the root account.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	addr := clientAddr(r)
	if !c.sameOrigin(r) {
		c.refuse(r, "", "", "cross-origin login")
		http.Error(w, "forbidden: cross-origin request", http.StatusForbidden)
		return
	}
	if !c.sessions.attempt(addr) {
		c.render(w, http.StatusTooManyRequests, "login", view{Title: "Sign in", Error: msgThrottled})
		return
	}
	ak, secret := r.PostFormValue("access_key"), r.PostFormValue("secret_key")
	ok := false
	if ak != "" && secret != "" {
		want, err := c.cfg.IAM.SecretKey(r.Context(), ak)
		ok = err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(secret)) == 1
	}
	if !ok { // counted as failed by attempt
		audit.Record(r.Context(), c.cfg.Audit, audit.Event{Type: audit.TypeAuthFailure, Action: "console login", Outcome: audit.Failed,
			AccessKey: ak, Source: addr, Dialect: "console", Reason: "wrong access key or secret"})
		c.log.Info("console: login failed", "access_key", ak, "remote", addr)
		c.render(w, http.StatusUnauthorized, "login", view{Title: "Sign in", Error: msgBadLogin})
		return
	}
	p, err := c.cfg.IAM.Principal(r.Context(), ak)
	if err != nil || !p.Root {
		c.sessions.refund(addr)
		c.refuse(r, p.User, ak, "the console is the root account's")
		c.render(w, http.StatusForbidden, "login", view{Title: "Sign in", Error: msgNotAdmin})
		return
	}
	c.sessions.succeeded(addr)
	ss := c.sessions.create(p.User, ak)
	c.setCookie(w, ss.id, 0)
	c.log.Info("console: login", "principal", p.User, "access_key", ak, "remote", addr)
	http.Redirect(w, r, "/buckets", http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, ss *session) {
	c.sessions.remove(ss.id)
	c.setCookie(w, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
