package origin

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/netip"
	"reflect"
	"testing"
)

func TestRefused(t *testing.T) {
	for _, c := range []struct {
		ip      string
		refused bool
	}{
		{"127.0.0.1", true}, {"127.9.9.9", true}, {"::1", true},
		{"169.254.169.254", true}, {"169.254.1.1", true}, {"fe80::1", true},
		{"fd00:ec2::254", true}, {"fc00::1", true},
		{"10.1.2.3", true}, {"172.16.0.1", true}, {"192.168.1.1", true},
		{"100.64.0.1", true}, {"0.0.0.0", true}, {"::", true},
		{"224.0.0.1", true}, {"ff02::1", true}, {"255.255.255.255", true},
		{"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", true},
		{"64:ff9b::a00:1", true}, {"2002:7f00:1::1", true}, {"2001:0:7f00:1::1", true},
		{"8.8.8.8", false}, {"1.1.1.1", false}, {"2001:4860:4860::8888", false}, {"172.32.0.1", false},
	} {
		if got := Refused(netip.MustParseAddr(c.ip)); got != c.refused {
			t.Errorf("Refused(%s) = %v, want %v", c.ip, got, c.refused)
		}
	}
}

func TestGuardAllow(t *testing.T) {
	g, err := NewGuard([]string{"127.0.0.1", "10.0.0.0/8", "Origin.Internal."})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		host, ip string
		ok       bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.2", "127.0.0.2", false},
		{"x", "10.9.9.9", true},
		{"origin.internal", "192.168.0.1", true},
		{"other.internal", "192.168.0.1", false},
		{"public.example", "8.8.8.8", true},
		{"x", "169.254.169.254", false},
	} {
		err := g.check(c.host, netip.MustParseAddr(c.ip))
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrRefused)) {
			t.Errorf("check(%s, %s) = %v, want ok=%v", c.host, c.ip, err, c.ok)
		}
	}
	if _, err := NewGuard([]string{"not a host/"}); err == nil {
		t.Error("NewGuard accepted a malformed allowance")
	}
}

func TestMatchAndTarget(t *testing.T) {
	rules := []Rule{
		{Priority: 2, Type: Mirror, Prefix: "a/", Host: "second"},
		{Priority: 1, Type: Mirror, Prefix: "a/b/", Host: "first", Protocol: "HTTPS", FollowQueryString: true},
		{Priority: 3, Type: Redirect, StatusCode: "403", Host: "never"},
		{Priority: 4, Type: Mirror, URL: "http://o.example:8080/dir/", Prefix: "c/", KeyPrefix: "z/", KeyPrefixSet: true},
	}
	for _, c := range []struct {
		key, query, host, url string
		https                 bool
	}{
		{"a/b/c", "x=1", "first", "https://first/a/b/c?x=1", false},
		{"a/x", "x=1", "second", "http://second/a/x", false},
		{"c/k", "", "", "http://o.example:8080/dir/z/k", false},
		{"zzz", "", "", "", false},
	} {
		r := Match(rules, c.key)
		if c.url == "" {
			if r != nil {
				t.Errorf("%s matched %+v", c.key, r)
			}
			continue
		}
		u, err := r.Target(c.key, c.query, c.https)
		if err != nil || u.String() != c.url {
			t.Errorf("%s: %v %v, want %s", c.key, u, err, c.url)
		}
	}
	follow := Rule{Host: "h", Protocol: "FOLLOW", FixedFile: "/fixed/${key}.bak"}
	if u, _ := follow.Target("k", "", true); u.String() != "https://h/fixed/k.bak" {
		t.Errorf("FOLLOW over TLS, fixed file: %s", u)
	}
}

func TestRequestHeaders(t *testing.T) {
	in := http.Header{"Authorization": {"secret"}, "X-Amz-Date": {"d"}, "Range": {"bytes=0-1"},
		"User-Agent": {"ua"}, "X-Keep": {"k"}, "X-Drop": {"d"}}
	r := Rule{Headers: Headers{PassAll: true, Remove: []string{"x-drop"}, Set: []Header{{"X-Set", "v"}}}}
	got := r.RequestHeaders(in)
	want := http.Header{"User-Agent": {"ua"}, "X-Keep": {"k"}, "X-Set": {"v"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PassAll: %v, want %v", got, want)
	}
	r = Rule{Headers: Headers{Pass: []string{"x-keep", "authorization"}}}
	if got := r.RequestHeaders(in); !reflect.DeepEqual(got, http.Header{"X-Keep": {"k"}}) {
		t.Errorf("Pass: %v", got)
	}
}

func TestCOSDocumentRoundTrip(t *testing.T) {
	doc := `<OriginConfiguration><OriginRule><RulePriority>1</RulePriority><OriginType>Mirror</OriginType>` +
		`<OriginCondition><HTTPStatusCode>404</HTTPStatusCode><Prefix>p/</Prefix></OriginCondition>` +
		`<OriginParameter><Protocol>HTTPS</Protocol><FollowQueryString>true</FollowQueryString>` +
		`<HttpHeader><FollowAllHeaders>false</FollowAllHeaders><NewHttpHeaders><Header><Key>a</Key><Value>b</Value></Header></NewHttpHeaders>` +
		`<FollowHttpHeaders><Header><Key>c</Key></Header></FollowHttpHeaders></HttpHeader>` +
		`<FollowRedirection>false</FollowRedirection><CopyOriginData>true</CopyOriginData></OriginParameter>` +
		`<OriginInfo><HostInfo><HostName>o.example</HostName><Weight>3</Weight><StandbyHostName_1>s1</StandbyHostName_1><StandbyHostName_2>s2</StandbyHostName_2></HostInfo>` +
		`<FileInfo><SuffixConfiguration><Suffix>.jpg</Suffix></SuffixConfiguration></FileInfo></OriginInfo></OriginRule></OriginConfiguration>`
	c, err := ParseCOS([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	out, err := xml.Marshal(c.COSDocument())
	if err != nil {
		t.Fatal(err)
	}
	c2, err := ParseCOS(out)
	if err != nil || !reflect.DeepEqual(c, c2) {
		t.Fatalf("round trip: %v\n%+v\n%+v\n%s", err, c, c2, out)
	}
	r := c.Rules[0]
	if r.Host != "o.example" || r.Weight != 3 || !reflect.DeepEqual(r.Standby, []string{"s1", "s2"}) || r.KeySuffix != ".jpg" || r.FollowRedirect || !r.FollowQueryString {
		t.Errorf("parsed: %+v", r)
	}
	for _, bad := range []string{
		`<OriginConfiguration/>`,
		`<OriginConfiguration><OriginRule><OriginType>Mirror</OriginType><OriginCondition><HTTPStatusCode>403</HTTPStatusCode></OriginCondition><OriginInfo><HostInfo><HostName>h</HostName></HostInfo></OriginInfo></OriginRule></OriginConfiguration>`,
		`<OriginConfiguration><OriginRule><OriginType>Proxy</OriginType><OriginInfo><HostInfo><HostName>h/x</HostName></HostInfo></OriginInfo></OriginRule></OriginConfiguration>`,
	} {
		if _, err := ParseCOS([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseCOS(%s) = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := ParseCOS([]byte("<OriginConfiguration>")); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated document: %v", err)
	}
}
