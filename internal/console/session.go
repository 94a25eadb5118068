package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Session limits: a session ends after idleTimeout without a request, or
// maxAge after login, whichever comes first; at most maxSessions live at
// once (the oldest is dropped for a new one).
const (
	idleTimeout = 30 * time.Minute
	maxAge      = 12 * time.Hour
	maxSessions = 256
)

// Login throttling: a client address with maxFailures failed logins
// within failureWindow is refused until the window has passed.
const (
	maxFailures   = 5
	failureWindow = 5 * time.Minute
	maxThrottled  = 4096 // addresses remembered
)

// Cookie names. Under TLS the __Host- prefix makes browsers refuse the
// cookie unless it is Secure, host-only and for path /.
const (
	cookieName       = "strongroom-console"
	secureCookieName = "__Host-strongroom-console"
)

// session is a logged-in operator. Sessions live in memory only: a
// restart logs everyone out.
type session struct {
	id        string // the cookie's value
	csrf      string // the token every form carries
	accessKey string // the access key logged in with
	user      string
	created   time.Time
	seen      time.Time
}

type sessions struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*session

	fails map[string]*failures // by client address
}

type failures struct {
	n     int
	first time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{now: now, m: map[string]*session{}, fails: map[string]*failures{}}
}

// token is 32 random bytes, URL-safe.
func token() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for user.
func (s *sessions) create(user, accessKey string) *session {
	now := s.now()
	ss := &session{id: token(), csrf: token(), user: user, accessKey: accessKey, created: now, seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= maxSessions {
		s.evict(now)
	}
	s.m[ss.id] = ss
	return ss
}

// evict drops the expired sessions, and the oldest if none was.
func (s *sessions) evict(now time.Time) {
	var oldest *session
	for id, ss := range s.m {
		if s.expired(ss, now) {
			delete(s.m, id)
			continue
		}
		if oldest == nil || ss.created.Before(oldest.created) {
			oldest = ss
		}
	}
	if len(s.m) >= maxSessions && oldest != nil {
		delete(s.m, oldest.id)
	}
}

func (s *sessions) expired(ss *session, now time.Time) bool {
	return now.Sub(ss.seen) > idleTimeout || now.Sub(ss.created) > maxAge
}

// get returns the live session of id (nil if none), marking it used.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[id]
	if ss == nil {
		return nil
	}
	if s.expired(ss, now) {
		delete(s.m, id)
		return nil
	}
	ss.seen = now
	return ss
}

func (s *sessions) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// attempt counts a sign-in from addr as failed before its credentials
// are checked (succeeded forgets it again), and reports false, counting
// nothing, when addr has failed too often lately. Checking and counting
// under one lock means concurrent guesses cannot all pass the check
// before any of them is counted.
func (s *sessions) attempt(addr string) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fails[addr]
	if f != nil && now.Sub(f.first) > failureWindow {
		delete(s.fails, addr)
		f = nil
	}
	if f == nil {
		if len(s.fails) >= maxThrottled {
			for a, g := range s.fails {
				if now.Sub(g.first) > failureWindow {
					delete(s.fails, a)
				}
			}
			if len(s.fails) >= maxThrottled {
				return true // under a flood from many addresses: stop counting new ones
			}
		}
		f = &failures{first: now}
		s.fails[addr] = f
	}
	if f.n >= maxFailures {
		return false
	}
	f.n++
	return true
}

// refund takes back the count of one attempt from addr whose credentials
// were right (but refused for another reason): it was not a guess, and it
// must not clear the guesses before it either.
func (s *sessions) refund(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.fails[addr]; f != nil && f.n > 0 {
		f.n--
	}
}

// succeeded forgets addr's failures.
func (s *sessions) succeeded(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.fails, addr)
}

func (c *Console) cookieName() string {
	if c.secure {
		return secureCookieName
	}
	return cookieName
}

// setCookie hands the browser the session's id; maxAge -1 deletes it.
func (c *Console) setCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     c.cookieName(),
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   c.secure,
		SameSite: http.SameSiteStrictMode,
	})
}

// session returns the request's live session, or nil.
func (c *Console) session(r *http.Request) *session {
	ck, err := r.Cookie(c.cookieName())
	if err != nil {
		return nil
	}
	return c.sessions.get(ck.Value)
}

// sameOrigin reports whether a state-changing request comes from the
// console's own pages: browsers send Origin (or at least Referer) with a
// form POST, and Sec-Fetch-Site when they know it. A request naming no
// origin at all is refused: the console has no other clients.
func (c *Console) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		ref, err := url.Parse(r.Header.Get("Referer"))
		if err != nil || ref.Host == "" {
			return false
		}
		origin = ref.Scheme + "://" + ref.Host
	}
	return origin == c.scheme()+"://"+r.Host
}

func (c *Console) scheme() string {
	if c.secure {
		return "https"
	}
	return "http"
}

// validCSRF checks the form's token against the session's, in constant
// time.
func validCSRF(ss *session, r *http.Request) bool {
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf)) == 1
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
