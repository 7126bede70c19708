package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"

	"refundledger/ingest"
)

const (
	testKey    = "ak-test"
	testSecret = "s3cret"
)

// signed returns valid signature headers for now with the given nonce.
func signed(now time.Time, nonce, secret string) http.Header {
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	h := http.Header{}
	h.Set("access-key", testKey)
	h.Set("timestamp", ts)
	h.Set("nonce-str", nonce)
	h.Set("user-id", "42")
	h.Set("signature", ingest.Sign(testKey, ts, nonce, secret))
	return h
}

func mustVerifier(t testing.TB, env *natsEnv, mode ingest.Mode, now func() time.Time) *ingest.Verifier {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	store, err := ingest.NewKVNonceStore(ctx, env.js, 1)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ingest.NewVerifier(mode, []string{testKey}, []string{"old-secret", testSecret}, store, now)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestServeHTTP answers each request class once, on a fresh stream, and
// checks the status, the error code and what was stored.
func TestServeHTTP(t *testing.T) {
	now := time.Now()
	refund := mustReadFixture(t, "1688-refund-refundonly-success.json")
	orderCreate := mustReadFixture(t, "1688-order-create.json")
	type row struct {
		name     string
		method   string
		body     string
		header   http.Header
		mode     ingest.Mode // "" = no verifier
		status   int
		code     ingest.ErrorCode
		subject  string // of the one stored message; "" = nothing stored
		sigHdr   string
		extraHdr map[string]string
		stat     func(ingest.Stats) uint64
	}
	rows := []row{
		{name: "ValidRefundIsStoredUnderItsOrder", method: "POST", body: string(refund), status: 200,
			subject: "xportcn.cb.1688.ORDER_BUYER_VIEW_ORDER_BUYER_REFUND.2044420321024880794", sigHdr: "off",
			extraHdr: map[string]string{ingest.HeaderMessageID: "224", ingest.HeaderRetryCount: "0", "Nats-Msg-Id": "xp-1688-224-7d179c7cdff37525"},
			stat:     func(s ingest.Stats) uint64 { return s.Accepted }},
		{name: "ValidStringBodyOrderIsStored", method: "POST", body: string(orderCreate), status: 200,
			subject: "xportcn.cb.1688.ORDER_CREATE.3305075341149134260", sigHdr: "off",
			extraHdr: map[string]string{ingest.HeaderRetryCount: "0"}},
		{name: "PrefixedTypeIsNormalized", method: "POST",
			body:   `{"messageType":"TAOBAO_ORDER_CREATE","messageBody":{"salesOrderId":"T-9"},"id":7}`,
			status: 200, subject: "xportcn.cb.taobao.ORDER_CREATE.T-9", sigHdr: "off",
			extraHdr: map[string]string{"Nats-Msg-Id": "xp-taobao-7-e6cc1d32d1453dc8"}},
		{name: "UnknownTypeIsStoredUnderItsOwnSubjectAndCounted", method: "POST",
			body:   `{"messageType":"SOMETHING.NEW*","messageBody":{"orderId":12},"messagePlatform":0}`,
			status: 200, subject: "xportcn.cb.taobao.SOMETHING_NEW_.12", sigHdr: "off",
			stat: func(s ingest.Stats) uint64 { return s.UnknownType }},
		{name: "EnvelopeWithoutOrderRoutesToUnderscore", method: "POST",
			body:   `{"messageType":"ORDER_CANCEL","messageBody":"{}"}`,
			status: 200, subject: "xportcn.cb.unknown.ORDER_CANCEL._", sigHdr: "off"},
		{name: "JSONArrayIsQuarantined", method: "POST", body: `[1,2,3]`, status: 200,
			subject: ingest.QuarantineSubject, sigHdr: "off",
			stat: func(s ingest.Stats) uint64 { return s.Quarantined }},
		{name: "JSONWithoutMessageTypeIsQuarantined", method: "POST", body: `{"hello":"world"}`, status: 200,
			subject: ingest.QuarantineSubject, sigHdr: "off"},
		{name: "EnvelopeWithBadFieldIsQuarantined", method: "POST",
			body:   `{"messageType":"ORDER_CREATE","retryCount":"many","messageBody":{}}`,
			status: 200, subject: ingest.QuarantineSubject, sigHdr: "off"},
		{name: "NotJSONIs400AndQuarantined", method: "POST", body: `messageType=ORDER_CREATE`, status: 400, code: ingest.CodeBadRequest,
			subject: ingest.QuarantineSubject, sigHdr: "off",
			stat: func(s ingest.Stats) uint64 { return min(s.BadRequest, s.Quarantined) }},
		{name: "TruncatedJSONIs400AndQuarantined", method: "POST", body: string(refund[:100]), status: 400, code: ingest.CodeBadRequest,
			subject: ingest.QuarantineSubject, sigHdr: "off"},
		{name: "EmptyPostIsProbe", method: "POST", body: "", status: 200,
			stat: func(s ingest.Stats) uint64 { return s.Probe }},
		{name: "WhitespacePostIsProbe", method: "POST", body: " \r\n\t", status: 200},
		{name: "EmptyObjectPostIsProbe", method: "POST", body: "{ }", status: 200},
		// Spaces that JSON does not count as whitespace make a body that is
		// not JSON, not an empty one.
		{name: "NoBreakSpaceIs400AndQuarantined", method: "POST", body: "\u00a0", status: 400, code: ingest.CodeBadRequest,
			subject: ingest.QuarantineSubject, sigHdr: "off"},
		{name: "ObjectOfOtherSpacesIs400AndQuarantined", method: "POST", body: "\u0085{\u3000}", status: 400,
			code: ingest.CodeBadRequest, subject: ingest.QuarantineSubject, sigHdr: "off"},
		{name: "GetIsProbe", method: "GET", status: 200},
		{name: "HeadIsProbe", method: "HEAD", status: 200},
		{name: "PutIs405", method: "PUT", body: string(refund), status: 405, code: ingest.CodeMethodNotAllowed,
			stat: func(s ingest.Stats) uint64 { return s.MethodNotAllowed }},
		{name: "DeleteIs405", method: "DELETE", status: 405, code: ingest.CodeMethodNotAllowed},
		{name: "EnforceValidSignatureIsStored", method: "POST", body: string(refund), mode: ingest.ModeEnforce,
			header: signed(now, "nonce-valid", testSecret), status: 200, sigHdr: "ok",
			subject: "xportcn.cb.1688.ORDER_BUYER_VIEW_ORDER_BUYER_REFUND.2044420321024880794",
			stat:    func(s ingest.Stats) uint64 { return s.SignatureOK }},
		{name: "EnforceRotatedSecretIsStored", method: "POST", body: string(refund), mode: ingest.ModeEnforce,
			header: signed(now, "nonce-rotated", "old-secret"), status: 200, sigHdr: "ok",
			subject: "xportcn.cb.1688.ORDER_BUYER_VIEW_ORDER_BUYER_REFUND.2044420321024880794"},
		{name: "EnforceBadSignatureIs401", method: "POST", body: string(refund), mode: ingest.ModeEnforce,
			header: signed(now, "nonce-bad", "wrong"), status: 401, code: ingest.CodeUnauthorized,
			stat: func(s ingest.Stats) uint64 { return s.SignatureBad }},
		{name: "EnforceMissingSignatureIs401", method: "POST", body: string(refund), mode: ingest.ModeEnforce,
			status: 401, code: ingest.CodeUnauthorized,
			stat: func(s ingest.Stats) uint64 { return s.SignatureMissing }},
		{name: "EnforceStaleSignatureIs401", method: "POST", body: string(refund), mode: ingest.ModeEnforce,
			header: signed(now.Add(-11*time.Minute), "nonce-stale", testSecret), status: 401, code: ingest.CodeUnauthorized,
			stat: func(s ingest.Stats) uint64 { return s.SignatureStale }},
		{name: "EnforceUnsignedProbeIs200", method: "POST", body: "", mode: ingest.ModeEnforce, status: 200},
		{name: "EnforceNotJSONWithBadSignatureIs401", method: "POST", body: "x", mode: ingest.ModeEnforce,
			status: 401, code: ingest.CodeUnauthorized},
		{name: "RecordBadSignatureIsStoredAndMarked", method: "POST", body: string(refund), mode: ingest.ModeRecord,
			header: signed(now, "nonce-rec", "wrong"), status: 200, sigHdr: "bad",
			subject: "xportcn.cb.1688.ORDER_BUYER_VIEW_ORDER_BUYER_REFUND.2044420321024880794"},
		{name: "RecordMissingSignatureIsStoredAndMarked", method: "POST", body: string(refund), mode: ingest.ModeRecord,
			status: 200, sigHdr: "missing",
			subject: "xportcn.cb.1688.ORDER_BUYER_VIEW_ORDER_BUYER_REFUND.2044420321024880794"},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			env := mustStartNATS(t)
			cfg := ingest.Config{JS: env.js, Now: func() time.Time { return now }}
			if tc.mode != "" {
				cfg.Verifier = mustVerifier(t, env, tc.mode, func() time.Time { return now })
			}
			h := mustNewHandler(t, cfg)
			a := do(t, h, tc.method, []byte(tc.body), tc.header)
			if a.status != tc.status {
				t.Fatalf("status = %d, want %d (%s)", a.status, tc.status, a.raw)
			}
			if a.err.Error.Code != tc.code {
				t.Errorf("error code = %q, want %q", a.err.Error.Code, tc.code)
			}
			if tc.status == 405 && a.header.Get("Allow") != "GET, HEAD, POST" {
				t.Errorf("Allow = %q", a.header.Get("Allow"))
			}
			msgs := env.stored(t)
			if tc.subject == "" {
				if len(msgs) != 0 {
					t.Fatalf("stored %d messages, want none", len(msgs))
				}
				if a.success.ReceiptID != "" {
					t.Errorf("receipt %q for nothing stored", a.success.ReceiptID)
				}
			} else {
				if len(msgs) != 1 {
					t.Fatalf("stored %d messages, want 1", len(msgs))
				}
				m := msgs[0]
				if m.Subject != tc.subject {
					t.Errorf("subject = %q, want %q", m.Subject, tc.subject)
				}
				if string(m.Data) != tc.body {
					t.Errorf("stored bytes differ from the received ones")
				}
				receipt := a.success.ReceiptID
				if a.status == 400 { // stored, but the sender is asked to retry: the message names the receipt
					_, receipt, _ = strings.Cut(a.err.Error.Message, "receipt ")
					receipt = strings.TrimSuffix(receipt, ")")
				}
				if got := m.Header.Get(ingest.HeaderReceiptID); got != receipt {
					t.Errorf("receipt header %q, answer %q", got, receipt)
				}
				if _, err := ulid.ParseStrict(receipt); err != nil {
					t.Errorf("receipt %q: %v", receipt, err)
				}
				if got, want := m.Header.Get(ingest.HeaderReceivedAt), now.UTC().Format(time.RFC3339Nano); got != want {
					t.Errorf("received-at %q, want %q", got, want)
				}
				if got := m.Header.Get(ingest.HeaderSignature); got != tc.sigHdr {
					t.Errorf("signature header %q, want %q", got, tc.sigHdr)
				}
				if m.Header.Get("Nats-Msg-Id") == "" {
					t.Error("no Nats-Msg-Id")
				}
				if tc.subject == ingest.QuarantineSubject && m.Header.Get(ingest.HeaderQuarantine) == "" {
					t.Error("quarantined without a reason")
				}
				for k, v := range tc.extraHdr {
					if got := m.Header.Get(k); got != v {
						t.Errorf("header %s = %q, want %q", k, got, v)
					}
				}
			}
			if tc.stat != nil && tc.stat(h.Stats()) != 1 {
				t.Errorf("counter for this outcome = %d, want 1 (%+v)", tc.stat(h.Stats()), h.Stats())
			}
		})
	}
}

func TestDuplicates(t *testing.T) {
	t.Run("SameBodyTwiceIsStoredOnceAndAnsweredWithOriginalReceipt", func(t *testing.T) {
		env := mustStartNATS(t)
		h := mustNewHandler(t, ingest.Config{JS: env.js})
		body := mustReadFixture(t, "1688-refund-refundonly-success.json")
		first := do(t, h, "POST", body, nil)
		second := do(t, h, "POST", body, nil)
		if first.status != 200 || second.status != 200 {
			t.Fatalf("statuses %d, %d", first.status, second.status)
		}
		if first.success.ReceiptID != second.success.ReceiptID {
			t.Errorf("receipts %q then %q, want the original twice", first.success.ReceiptID, second.success.ReceiptID)
		}
		if n := len(env.stored(t)); n != 1 {
			t.Errorf("stored %d, want 1", n)
		}
		if s := h.Stats(); s.Accepted != 1 || s.Duplicate != 1 {
			t.Errorf("stats %+v", s)
		}
	})
	t.Run("RetryWithHigherRetryCountIsADuplicate", func(t *testing.T) {
		for _, name := range []string{"1688-refund-refundonly-success.json", "1688-order-pay-success.json"} {
			t.Run(name, func(t *testing.T) {
				env := mustStartNATS(t)
				h := mustNewHandler(t, ingest.Config{JS: env.js})
				body := mustReadFixture(t, name)
				retry := withRetry(t, body, 3)
				first := do(t, h, "POST", body, nil)
				second := do(t, h, "POST", retry, nil)
				if first.status != 200 || second.status != 200 {
					t.Fatalf("statuses %d, %d", first.status, second.status)
				}
				msgs := env.stored(t)
				if len(msgs) != 1 {
					t.Fatalf("stored %d, want 1", len(msgs))
				}
				if first.success.ReceiptID != second.success.ReceiptID {
					t.Errorf("receipts differ")
				}
			})
		}
	})
	t.Run("NotJSONRetriedIsKeptOnceAndAnswered400Again", func(t *testing.T) {
		env := mustStartNATS(t)
		var logs bytes.Buffer
		h := mustNewHandler(t, ingest.Config{JS: env.js, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		body := mustReadFixture(t, "1688-refund-refundonly-success.json")[:300] // cut short
		first := do(t, h, "POST", body, nil)
		second := do(t, h, "POST", body, nil)
		if first.status != 400 || second.status != 400 {
			t.Fatalf("statuses %d, %d, want 400 twice", first.status, second.status)
		}
		msgs := env.stored(t)
		if len(msgs) != 1 || msgs[0].Subject != ingest.QuarantineSubject {
			t.Fatalf("stored %d messages, want 1 in quarantine", len(msgs))
		}
		if r := msgs[0].Header.Get(ingest.HeaderReceiptID); first.err.Error.Message != second.err.Error.Message ||
			!strings.Contains(second.err.Error.Message, r) {
			t.Errorf("answers %q then %q, want both to name receipt %q", first.err.Error.Message, second.err.Error.Message, r)
		}
		if s := h.Stats(); s.BadRequest != 2 || s.Quarantined != 2 || s.Accepted != 0 || s.Duplicate != 0 {
			t.Errorf("stats %+v", s)
		}
		// The log names the receipt stored, for the retry too (not the one
		// the retry was given and that nothing holds).
		if r := msgs[0].Header.Get(ingest.HeaderReceiptID); strings.Count(logs.String(), "body quarantined\" receipt="+r) != 2 {
			t.Errorf("the log does not name receipt %s twice:\n%s", r, &logs)
		}
	})
	t.Run("DifferentMessagesAreBothStored", func(t *testing.T) {
		env := mustStartNATS(t)
		h := mustNewHandler(t, ingest.Config{JS: env.js})
		for _, name := range fixtureNames(t) {
			if a := do(t, h, "POST", mustReadFixture(t, name), nil); a.status != 200 {
				t.Fatalf("%s: %d", name, a.status)
			}
		}
		if got, want := len(env.stored(t)), len(fixtureNames(t)); got != want {
			t.Errorf("stored %d, want %d", got, want)
		}
	})
}

// withRetry returns body with retryCount set to n and the timestamp changed,
// as a later delivery attempt would carry.
func withRetry(t testing.TB, body []byte, n int) []byte {
	t.Helper()
	s := string(body)
	if i := strings.Index(s, `"retryCount": 0`); i >= 0 {
		return []byte(strings.Replace(s, `"retryCount": 0`, fmt.Sprintf(`"retryCount": %d`, n), 1))
	}
	i := strings.LastIndex(s, "}")
	return []byte(s[:i] + fmt.Sprintf(`,"retryCount":%d,"timestamp":"1779263299999"}`, n))
}

func TestReplayedNonce(t *testing.T) {
	now := time.Now()
	for _, mode := range []ingest.Mode{ingest.ModeEnforce, ingest.ModeRecord} {
		t.Run(string(mode), func(t *testing.T) {
			env := mustStartNATS(t)
			v := mustVerifier(t, env, mode, func() time.Time { return now })
			// Two ingesters sharing the nonce bucket, as in a cluster.
			h1 := mustNewHandler(t, ingest.Config{JS: env.js, Verifier: v})
			h2 := mustNewHandler(t, ingest.Config{JS: env.js, Verifier: mustVerifier(t, env, mode, func() time.Time { return now })})
			hdr := signed(now, "nonce-once", testSecret)
			if a := do(t, h1, "POST", mustReadFixture(t, "1688-order-create.json"), hdr); a.status != 200 {
				t.Fatalf("first: %d %s", a.status, a.raw)
			}
			a := do(t, h2, "POST", mustReadFixture(t, "1688-order-cancel.json"), hdr)
			msgs := env.stored(t)
			switch mode {
			case ingest.ModeEnforce:
				if a.status != 401 || a.err.Error.Code != ingest.CodeUnauthorized {
					t.Errorf("replay: %d %s", a.status, a.raw)
				}
				if len(msgs) != 1 {
					t.Errorf("stored %d, want 1", len(msgs))
				}
			case ingest.ModeRecord:
				if a.status != 200 || len(msgs) != 2 {
					t.Fatalf("replay: %d, stored %d", a.status, len(msgs))
				}
				if got := msgs[1].Header.Get(ingest.HeaderSignature); got != "replayed" {
					t.Errorf("signature header %q, want replayed", got)
				}
			}
			if h2.Stats().SignatureReplayed != 1 {
				t.Errorf("replayed counter %+v", h2.Stats())
			}
		})
	}
}

// TestABodyUnderSomebodyElsesIDDoesNotPreemptIt: in record mode (and off),
// unsigned bodies are stored; one posted under the envelope id of a
// callback still to come must not make that callback a duplicate, answered
// 200 and never stored.
func TestABodyUnderSomebodyElsesIDDoesNotPreemptIt(t *testing.T) {
	now := time.Now()
	env := mustStartNATS(t)
	h := mustNewHandler(t, ingest.Config{JS: env.js,
		Verifier: mustVerifier(t, env, ingest.ModeRecord, func() time.Time { return now })})
	forged := `{"messageType":"ORDER_CANCEL","id":"99","messagePlatform":1,"messageBody":{"orderId":"X"}}`
	genuine := `{"messageType":"ORDER_CANCEL","id":"99","messagePlatform":1,"messageBody":{"orderId":"Y"}}`
	if a := do(t, h, "POST", []byte(forged), nil); a.status != 200 {
		t.Fatalf("forged: %d %s", a.status, a.raw)
	}
	if a := do(t, h, "POST", []byte(genuine), signed(now, "n-99", testSecret)); a.status != 200 {
		t.Fatalf("genuine: %d %s", a.status, a.raw)
	}
	msgs := env.stored(t)
	if len(msgs) != 2 || string(msgs[1].Data) != genuine || msgs[1].Header.Get(ingest.HeaderSignature) != "ok" {
		t.Fatalf("stored %d messages; the genuine callback must be the second, signature ok", len(msgs))
	}
}

// failFirstPublish is a JetStream whose first PublishMsg fails as a timeout.
type failFirstPublish struct {
	jetstream.JetStream
	n atomic.Int32
}

func (f *failFirstPublish) PublishMsg(ctx context.Context, m *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	if f.n.Add(1) == 1 {
		return nil, context.DeadlineExceeded
	}
	return f.JetStream.PublishMsg(ctx, m, opts...)
}

// TestNonceOfAnUnstoredCallbackIsGivenBack: a signed callback answered 503
// (not stored) gives its nonce back, so the same request sent again is
// stored, not refused as a replay and lost.
func TestNonceOfAnUnstoredCallbackIsGivenBack(t *testing.T) {
	now := time.Now()
	env := mustStartNATS(t)
	h1 := mustNewHandler(t, ingest.Config{JS: &failFirstPublish{JetStream: env.js},
		Verifier: mustVerifier(t, env, ingest.ModeEnforce, func() time.Time { return now })})
	body, hdr := mustReadFixture(t, "1688-order-create.json"), signed(now, "nonce-1", testSecret)
	if a := do(t, h1, "POST", body, hdr); a.status != 503 {
		t.Fatalf("first: %d %s, want 503", a.status, a.raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h1.Close(ctx); err != nil { // waits for the nonce to be given back
		t.Fatal(err)
	}
	h2 := mustNewHandler(t, ingest.Config{JS: env.js,
		Verifier: mustVerifier(t, env, ingest.ModeEnforce, func() time.Time { return now })})
	if a := do(t, h2, "POST", body, hdr); a.status != 200 {
		t.Fatalf("sent again: %d %s, want 200", a.status, a.raw)
	}
	if n := len(env.stored(t)); n != 1 {
		t.Errorf("stored %d, want 1", n)
	}
	// Stored, the nonce is kept: a third send is a replay.
	if a := do(t, h2, "POST", body, hdr); a.status != 401 {
		t.Errorf("replayed after storing: %d %s, want 401", a.status, a.raw)
	}
}

// countingReader yields n bytes of '{' and counts what was read.
type countingReader struct {
	mu   sync.Mutex
	left int
	read int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.left)
	for i := range p[:n] {
		p[i] = '{'
	}
	c.left -= n
	c.read += n
	return n, nil
}

func TestBodyLimit(t *testing.T) {
	env := mustStartNATS(t)
	const limit = 1000
	h := mustNewHandler(t, ingest.Config{JS: env.js, MaxBody: limit})
	t.Run("OverLimitWithoutLengthIs413AndReadsNoFurther", func(t *testing.T) {
		body := &countingReader{left: 10 << 20}
		req := httptest.NewRequest("POST", "/", body)
		req.ContentLength = -1
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		a := decodeAnswer(t, rec.Code, rec.Header(), rec.Body.Bytes(), "POST")
		if a.status != 413 || a.err.Error.Code != ingest.CodePayloadTooLarge {
			t.Fatalf("%d %s", a.status, a.raw)
		}
		if body.read > limit+1 {
			t.Errorf("read %d bytes, limit %d", body.read, limit)
		}
	})
	t.Run("DeclaredLengthOverLimitIs413WithoutReading", func(t *testing.T) {
		body := &countingReader{left: 2000}
		req := httptest.NewRequest("POST", "/", body)
		req.ContentLength = 2000
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 413 || body.read != 0 {
			t.Errorf("status %d, read %d", rec.Code, body.read)
		}
	})
	t.Run("ExactlyAtLimitIsAccepted", func(t *testing.T) {
		pad := limit - len(`{"messageType":"X","pad":""}`)
		body := `{"messageType":"X","pad":"` + strings.Repeat("a", pad) + `"}`
		if a := do(t, h, "POST", []byte(body), nil); a.status != 200 {
			t.Errorf("%d %s", a.status, a.raw)
		}
	})
	if n := len(env.stored(t)); n != 1 {
		t.Errorf("stored %d, want 1", n)
	}
	if s := h.Stats(); s.TooLarge != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestMaxBodyMustFitMaxPayload(t *testing.T) {
	dir := t.TempDir()
	srv, err := ingest.StartEmbeddedNATS(ingest.EmbeddedOptions{StoreDir: dir, MaxPayload: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	env := connect(t, srv.ClientURL())
	t.Run("DefaultIsLowered", func(t *testing.T) {
		h := mustNewHandler(t, ingest.Config{JS: env})
		if h.MaxBody() >= 1<<20 {
			t.Errorf("MaxBody %d does not fit max_payload 1 MiB", h.MaxBody())
		}
	})
	t.Run("ExplicitTooLargeIsAnError", func(t *testing.T) {
		if _, err := ingest.New(ingest.Config{JS: env, MaxBody: 1 << 20, Logger: quietLogger()}); err == nil {
			t.Error("no error")
		}
	})
}

func TestInFlightLimit(t *testing.T) {
	env := mustStartNATS(t)
	h := mustNewHandler(t, ingest.Config{JS: env.js, MaxInFlight: 1})
	srv := httptest.NewServer(h)
	defer srv.Close()

	// Occupy the only slot with a request whose body never ends.
	pr, pw := io.Pipe()
	firstDone := make(chan int, 1)
	go func() {
		resp, err := http.Post(srv.URL, "application/json", pr)
		if err != nil {
			firstDone <- -1
			return
		}
		resp.Body.Close()
		firstDone <- resp.StatusCode
	}()
	if _, err := pw.Write([]byte(`{"messageType":"ORDER_CREATE",`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return h.Stats().InFlight == 1 })

	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"messageType":"ORDER_CREATE"}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	a := decodeAnswer(t, resp.StatusCode, resp.Header, raw, "POST")
	if a.status != 503 || a.err.Error.Code != ingest.CodeUnavailable || a.header.Get("Retry-After") == "" {
		t.Errorf("second: %d %v %s", a.status, a.header, a.raw)
	}
	if _, err := pw.Write([]byte(`"messageBody":{}}`)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-firstDone; code != 200 {
		t.Errorf("first: %d", code)
	}
	if s := h.Stats(); s.Overloaded != 1 || s.Accepted != 1 || s.InFlight != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestNATSDownIs503InTime(t *testing.T) {
	env := mustStartNATS(t)
	h := mustNewHandler(t, ingest.Config{JS: env.js, PublishTimeout: 300 * time.Millisecond})
	env.srv.Shutdown()
	env.srv.WaitForShutdown()
	body := mustReadFixture(t, "1688-order-create.json")
	for i := range 3 {
		start := time.Now()
		a := do(t, h, "POST", body, nil)
		if el := time.Since(start); el > 900*time.Millisecond {
			t.Errorf("attempt %d answered after %v", i, el)
		}
		if a.status != 503 || a.err.Error.Code != ingest.CodeUnavailable || a.header.Get("Retry-After") == "" {
			t.Errorf("attempt %d: %d %s", i, a.status, a.raw)
		}
	}
	if s := h.Stats(); s.Unavailable != 3 {
		t.Errorf("stats %+v", s)
	}
}

func TestClose(t *testing.T) {
	env := mustStartNATS(t)
	h, err := ingest.New(ingest.Config{JS: env.js, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	t.Run("PostAfterCloseIs503", func(t *testing.T) {
		a := do(t, h, "POST", mustReadFixture(t, "1688-order-create.json"), nil)
		if a.status != 503 {
			t.Errorf("%d", a.status)
		}
	})
	t.Run("ProbeStillAnswers", func(t *testing.T) {
		if a := do(t, h, "GET", nil, nil); a.status != 200 {
			t.Errorf("%d", a.status)
		}
	})
	if n := len(env.stored(t)); n != 0 {
		t.Errorf("stored %d", n)
	}
}

func TestNewNeedsJetStream(t *testing.T) {
	if _, err := ingest.New(ingest.Config{}); err == nil {
		t.Error("no error without JS")
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
