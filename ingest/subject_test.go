package ingest_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"refundledger/ingest"
	"refundledger/proto"
)

func TestSubject(t *testing.T) {
	long := strings.Repeat("9", 200)
	cases := []struct {
		name string
		r    proto.Route
		want string
	}{
		{"Refund1688", route(proto.Platform1688, proto.TypeRefund, "2044420321024880794"),
			"xportcn.cb.1688.ORDER_BUYER_VIEW_ORDER_BUYER_REFUND.2044420321024880794"},
		{"NoOrderIsUnderscore", route(proto.PlatformTaobao, proto.TypeOrderCreate, ""), "xportcn.cb.taobao.ORDER_CREATE._"},
		{"EmptyPlatformIsUnknown", route("", "X", "1"), "xportcn.cb.unknown.X.1"},
		{"ForeignPlatformIsUnknown", route("jd.com", "X", "1"), "xportcn.cb.unknown.X.1"},
		{"WildcardsAndDotsAreReplaced", route(proto.Platform1688, "A.*>B", "1 2\t3"), "xportcn.cb.1688.A___B.1_2_3"},
		{"NonASCIIIsReplacedBytewise", route(proto.Platform1688, "退款", "1"), "xportcn.cb.1688.______.1"},
		{"EmptyTypeIsUnderscore", route(proto.Platform1688, "", "1"), "xportcn.cb.1688._.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ingest.Subject(tc.r); got != tc.want {
				t.Errorf("Subject = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("LongTokensAreBoundedAndDistinct", func(t *testing.T) {
		a := ingest.Subject(route(proto.Platform1688, "X", long))
		b := ingest.Subject(route(proto.Platform1688, "X", long+"0"))
		if a == b {
			t.Error("two long order ids share a subject")
		}
		checkSubject(t, a)
	})
}

func TestMsgID(t *testing.T) {
	withID := route(proto.Platform1688, proto.TypeRefund, "1")
	withID.ID, withID.Body = "224", []byte(`{"orderId":"1","id":9}`)
	if got := ingest.MsgID(withID); !regexp.MustCompile(`^xp-1688-224-[0-9a-f]{16}$`).MatchString(got) {
		t.Errorf("MsgID = %q, want xp-1688-224-<16 hex digits>", got)
	}
	retried := withID
	retried.RetryCount, retried.PushedAt = 3, 1779263269913
	if ingest.MsgID(retried) != ingest.MsgID(withID) {
		t.Error("retry fields change the id of a message with an envelope id")
	}
	// Another body under the same id (someone else's, unsigned) is no
	// duplicate of it, nor is an id that reads the same as a subject token.
	forged := withID
	forged.Body = []byte(`{"orderId":"1","id":10}`)
	dotted, spaced := withID, withID
	dotted.ID, spaced.ID = "1.2", "1 2"
	if ingest.MsgID(forged) == ingest.MsgID(withID) || ingest.MsgID(dotted) == ingest.MsgID(spaced) {
		t.Error("different messages share an id")
	}
	a := route(proto.Platform1688, proto.TypeOrderCreate, "1")
	a.Body = []byte(`{"orderId":"1"}`)
	b := a
	b.RetryCount, b.PushedAt = 4, 1779263269913
	if ingest.MsgID(a) != ingest.MsgID(b) {
		t.Error("retry fields change the hash id")
	}
	if !strings.HasPrefix(ingest.MsgID(a), "h-") || len(ingest.MsgID(a)) != 2+64 {
		t.Errorf("hash id %q", ingest.MsgID(a))
	}
	c := a
	c.Platform = proto.PlatformTaobao
	d := a
	d.Type = proto.TypeOrderCancel
	e := a
	e.Body = []byte(`{"orderId":"2"}`)
	for _, other := range []proto.Route{c, d, e} {
		if ingest.MsgID(other) == ingest.MsgID(a) {
			t.Errorf("platform, type and body must all count: %+v", other)
		}
	}
}

func route(p proto.Platform, typ, order string) proto.Route {
	return proto.Route{Envelope: proto.Envelope{Platform: p, Type: typ}, OrderID: order}
}

// checkSubject fails unless s is a five-token routed subject whose tokens are
// non-empty, at most 64 bytes and only [A-Za-z0-9_-].
func checkSubject(t *testing.T, s string) {
	t.Helper()
	toks := strings.Split(s, ".")
	if len(toks) != 5 || toks[0] != "xportcn" || toks[1] != "cb" {
		t.Fatalf("subject %q: not xportcn.cb.<p>.<t>.<o>", s)
	}
	for _, tok := range toks[2:] {
		if tok == "" || len(tok) > 64 {
			t.Fatalf("subject %q: token %q empty or too long", s, tok)
		}
		for _, c := range []byte(tok) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				t.Fatalf("subject %q: byte %q", s, c)
			}
		}
	}
}

// FuzzRoute: whatever the body, routing either reports it as not JSON / not an
// envelope, or yields a valid subject and a usable Nats-Msg-Id.
func FuzzRoute(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"messageType":"a.b*>","messageBody":"{\"orderId\":\"x.y z\"}","id":"a\nb"}`))
	f.Add([]byte(`{"messageType":"T","messageBody":{"baseInfo":{"id":1}},"messagePlatform":"0"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := proto.DecodeRoute(b)
		if err != nil {
			return
		}
		checkSubject(t, ingest.Subject(r))
		id := ingest.MsgID(r)
		if id == "" || len(id) > 80 || strings.ContainsAny(id, " \t\r\n:") {
			t.Fatalf("MsgID %q", id)
		}
	})
}
