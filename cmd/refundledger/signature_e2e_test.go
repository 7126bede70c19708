package main_test

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"refundledger/ingest"
	"refundledger/proto"
)

// TestServeChecksSignatures: with a key and a secret in the environment,
// serve enforces signatures (401, nothing stored, for an unsigned callback
// or a replayed nonce; 200 for a signed one), and with --verify record it
// stores everything and marks each message with the result. serve used to
// refuse to start at all once a secret was set.
func TestServeChecksSignatures(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	env := []string{"REFUNDLEDGER_ACCESS_KEY=key-1", "REFUNDLEDGER_ACCESS_SECRET=old-secret, new-secret"}
	data := filepath.Join(t.TempDir(), "data")
	body := fixture(t, "1688-refund-refundonly-success.json")

	s := startServeEnv(t, data, env)
	if code, resp := s.post(t, body); code != http.StatusUnauthorized {
		t.Fatalf("an unsigned callback: %d %v, want 401", code, resp)
	}
	nonce := "nonce-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if code, resp := s.postSigned(t, body, "key-1", "new-secret", nonce); code != http.StatusOK {
		t.Fatalf("a callback signed with the second secret: %d %v, want 200", code, resp)
	}
	if code, resp := s.postSigned(t, body, "key-1", "new-secret", nonce); code != http.StatusUnauthorized {
		t.Fatalf("its nonce again: %d %v, want 401", code, resp)
	}
	if code, resp := s.postSigned(t, body, "key-1", "a-wrong-secret", nonce+"-2"); code != http.StatusUnauthorized {
		t.Fatalf("a wrong signature: %d %v, want 401", code, resp)
	}
	js := mustJetStream(t, s.nats)
	if got := streamSignatures(t, js); strings.Join(got, ",") != "ok" {
		t.Fatalf("stored under enforce: %v, want the signed callback alone", got)
	}
	s.stop(t)

	s = startServeEnv(t, data, env, "--verify", "record")
	if code, resp := s.post(t, variantOf(body, "TQ900000001")); code != http.StatusOK {
		t.Fatalf("an unsigned callback under record: %d %v, want 200", code, resp)
	}
	js = mustJetStream(t, s.nats)
	if got := streamSignatures(t, js); strings.Join(got, ",") != "ok,missing" {
		t.Fatalf("stored under record: %v, want ok then missing", got)
	}
	s.stop(t)
}

// postSigned posts body with Xportcn's signature headers.
func (s *service) postSigned(t *testing.T, body []byte, key, secret, nonce string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.callback, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(ingest.HeaderAccessKey, key)
	req.Header.Set(ingest.HeaderTimestamp, ts)
	req.Header.Set(ingest.HeaderNonce, nonce)
	req.Header.Set(ingest.HeaderSignValue, ingest.Sign(key, ts, nonce, secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

// streamSignatures returns the signature check each stored callback was
// given, in stream order.
func streamSignatures(t *testing.T, js jetstream.JetStream) []string {
	t.Helper()
	ctx := context.Background()
	st, err := js.Stream(ctx, ingest.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m.Header.Get(proto.HeaderSignature))
	}
	return out
}

// variantOf is body with another refund id (a callback the stream does not
// hold yet).
func variantOf(body []byte, refundID string) []byte {
	return bytes.ReplaceAll(body, []byte("TQ142969441872889407"), []byte(refundID))
}
