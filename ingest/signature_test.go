package ingest_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"refundledger/ingest"
)

// memNonces is a NonceStore for tests of the verifier alone; the cluster
// store (KVNonceStore) is exercised by the handler tests.
type memNonces struct {
	mu   sync.Mutex
	seen map[string]bool
	err  error
}

func (m *memNonces) Release(_ context.Context, key, nonce string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.seen, key+"\x00"+nonce)
	return m.err
}

func (m *memNonces) Claim(_ context.Context, key, nonce string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return false, m.err
	}
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	k := key + "\x00" + nonce
	if m.seen[k] {
		return false, nil
	}
	m.seen[k] = true
	return true, nil
}

func TestSign(t *testing.T) {
	// MD5("ak" + "1700000000000" + "n" + "s"), upper-case hex.
	got := ingest.Sign("ak", "1700000000000", "n", "s")
	if len(got) != 32 || strings.ToUpper(got) != got {
		t.Fatalf("Sign = %q, want 32 upper-case hex digits", got)
	}
	if got == ingest.Sign("ak", "1700000000000", "n", "t") {
		t.Error("secret does not change the signature")
	}
}

func TestVerifierCheck(t *testing.T) {
	now := time.Unix(1_779_263_269, 913_000_000)
	clock := func() time.Time { return now }
	sec := strconv.FormatInt(now.Unix(), 10)
	ms := strconv.FormatInt(now.UnixMilli(), 10)
	hdr := func(key, ts, nonce, sig string) http.Header {
		h := http.Header{}
		for k, v := range map[string]string{"access-key": key, "timestamp": ts, "nonce-str": nonce, "signature": sig} {
			if v != "" {
				h.Set(k, v)
			}
		}
		return h
	}
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixMilli(), 10) }
	cases := []struct {
		name string
		h    http.Header
		want ingest.Result
	}{
		{"MillisecondTimestampIsOK", hdr(testKey, ms, "n1", ingest.Sign(testKey, ms, "n1", testSecret)), ingest.ResultOK},
		{"SecondTimestampIsOK", hdr(testKey, sec, "n2", ingest.Sign(testKey, sec, "n2", testSecret)), ingest.ResultOK},
		{"LowerCaseSignatureIsOK", hdr(testKey, ms, "n3", strings.ToLower(ingest.Sign(testKey, ms, "n3", testSecret))), ingest.ResultOK},
		{"OlderSecretDuringRotationIsOK", hdr(testKey, ms, "n4", ingest.Sign(testKey, ms, "n4", "old-secret")), ingest.ResultOK},
		{"SkewAtLimitIsOK", hdr(testKey, at(-600*time.Second), "n5", ingest.Sign(testKey, at(-600*time.Second), "n5", testSecret)), ingest.ResultOK},
		{"FutureSkewAtLimitIsOK", hdr(testKey, at(600*time.Second), "n6", ingest.Sign(testKey, at(600*time.Second), "n6", testSecret)), ingest.ResultOK},
		{"PastSkewIsStale", hdr(testKey, at(-601*time.Second), "n7", ingest.Sign(testKey, at(-601*time.Second), "n7", testSecret)), ingest.ResultStale},
		{"FutureSkewIsStale", hdr(testKey, at(601*time.Second), "n8", ingest.Sign(testKey, at(601*time.Second), "n8", testSecret)), ingest.ResultStale},
		{"WrongSecretIsBad", hdr(testKey, ms, "n9", ingest.Sign(testKey, ms, "n9", "nope")), ingest.ResultBad},
		{"WrongKeyIsBad", hdr("other", ms, "n10", ingest.Sign("other", ms, "n10", testSecret)), ingest.ResultBad},
		{"SignatureOfOtherNonceIsBad", hdr(testKey, ms, "n11", ingest.Sign(testKey, ms, "n12", testSecret)), ingest.ResultBad},
		{"ElevenDigitTimestampIsBad", hdr(testKey, ms[:11], "n13", ingest.Sign(testKey, ms[:11], "n13", testSecret)), ingest.ResultBad},
		{"ShortSignatureIsBad", hdr(testKey, ms, "n14", "ABC"), ingest.ResultBad},
		{"NoSignatureIsMissing", hdr(testKey, ms, "n15", ""), ingest.ResultMissing},
		{"NoNonceIsMissing", hdr(testKey, ms, "", ingest.Sign(testKey, ms, "", testSecret)), ingest.ResultMissing},
		{"NoHeadersIsMissing", http.Header{}, ingest.ResultMissing},
		{"ReplayedNonceIsReplayed", hdr(testKey, ms, "n1", ingest.Sign(testKey, ms, "n1", testSecret)), ingest.ResultReplayed},
	}
	v, err := ingest.NewVerifier(ingest.ModeEnforce, []string{testKey}, []string{"old-secret", testSecret}, &memNonces{}, clock)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Check(context.Background(), tc.h)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Check = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("NonceStoreFailureIsAnError", func(t *testing.T) {
		v, err := ingest.NewVerifier(ingest.ModeRecord, []string{testKey}, []string{testSecret}, &memNonces{err: errors.New("down")}, clock)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Check(context.Background(), hdr(testKey, ms, "x", ingest.Sign(testKey, ms, "x", testSecret))); err == nil {
			t.Error("no error")
		}
	})
	t.Run("NilVerifierIsOff", func(t *testing.T) {
		var v *ingest.Verifier
		if got, err := v.Check(context.Background(), nil); got != ingest.ResultOff || err != nil || v.Mode() != ingest.ModeOff {
			t.Errorf("nil verifier: %q %v %q", got, err, v.Mode())
		}
	})
}

func TestVerifierFromEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "secrets")
	if err := os.WriteFile(file, []byte("# rotated 2026-05\nfrom-file-1\nfrom-file-2, from-file-3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	configured := map[string]string{ingest.EnvAccessKey: testKey, ingest.EnvAccessSecret: "a, b"}
	cases := []struct {
		name    string
		env     map[string]string
		mode    string
		want    ingest.Mode
		wantErr error
	}{
		{"DefaultWithSecretIsEnforce", configured, "", ingest.ModeEnforce, nil},
		{"DefaultWithoutSecretIsOff", nil, "", ingest.ModeOff, nil},
		{"RecordWithSecret", configured, "record", ingest.ModeRecord, nil},
		{"OffWithSecretIsOff", configured, "off", ingest.ModeOff, nil},
		{"EnforceWithoutSecretFails", map[string]string{ingest.EnvAccessKey: testKey}, "enforce", "", ingest.ErrNoSecret},
		{"RecordWithoutKeyFails", map[string]string{ingest.EnvAccessSecret: "a"}, "record", "", ingest.ErrNoSecret},
		{"UnknownModeFails", configured, "strict", "", ingest.ErrBadMode},
		{"SecretsFromFile", map[string]string{ingest.EnvAccessKey: testKey, ingest.EnvAccessSecretFile: file}, "", ingest.ModeEnforce, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ingest.VerifierFromEnv(env(tc.env), tc.mode, &memNonces{})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Mode() != tc.want {
				t.Errorf("mode %q, want %q", v.Mode(), tc.want)
			}
		})
	}
	t.Run("EverySecretOfFileIsAccepted", func(t *testing.T) {
		v, err := ingest.VerifierFromEnv(env(map[string]string{ingest.EnvAccessKey: testKey, ingest.EnvAccessSecretFile: file}), "", &memNonces{})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		for i, s := range []string{"from-file-1", "from-file-2", "from-file-3"} {
			nonce := "nonce" + strconv.Itoa(i)
			got, err := v.Check(context.Background(), signed(now, nonce, s))
			if err != nil || got != ingest.ResultOK {
				t.Errorf("%s: %q %v", s, got, err)
			}
		}
		if got, _ := v.Check(context.Background(), signed(now, "n", "# rotated 2026-05")); got != ingest.ResultBad {
			t.Errorf("comment line accepted as a secret: %q", got)
		}
	})
	t.Run("MissingFileFails", func(t *testing.T) {
		_, err := ingest.VerifierFromEnv(env(map[string]string{ingest.EnvAccessSecretFile: filepath.Join(t.TempDir(), "none")}), "", &memNonces{})
		if err == nil {
			t.Error("no error")
		}
	})
}

// FuzzParseSignedHeaders: any header values parse without panic; an ok
// parse has all four fields, a 10/13-digit timestamp and 32 hex digits.
func FuzzParseSignedHeaders(f *testing.F) {
	f.Add("ak", "1779263269913", "0123456789abcdef0123456789abcdef", "B7F83FE2ADC8D8F044F2E01F0FFE8C80")
	f.Add("ak", "1779263269", "n", "b7f83fe2adc8d8f044f2e01f0ffe8c80")
	f.Add("", "", "", "")
	f.Add("ak", "-779263269", "n", "ZZF83FE2ADC8D8F044F2E01F0FFE8C80")
	f.Add("ak", " 1779263269 ", "\x00", "B7F83FE2ADC8D8F044F2E01F0FFE8C8")
	f.Fuzz(func(t *testing.T, key, ts, nonce, sig string) {
		h := http.Header{}
		h.Set("access-key", key)
		h.Set("timestamp", ts)
		h.Set("nonce-str", nonce)
		h.Set("signature", sig)
		s, at, res := ingest.ParseSignedHeaders(h)
		switch res {
		case ingest.ResultOK:
			if s.AccessKey == "" || s.Nonce == "" {
				t.Fatalf("ok without key or nonce: %+v", s)
			}
			if len(s.Timestamp) != 10 && len(s.Timestamp) != 13 {
				t.Fatalf("ok with timestamp %q", s.Timestamp)
			}
			if at.IsZero() || len(s.Signature) != 32 {
				t.Fatalf("ok with %v %q", at, s.Signature)
			}
		case ingest.ResultMissing, ingest.ResultBad:
		default:
			t.Fatalf("result %q", res)
		}
		v, err := ingest.NewVerifier(ingest.ModeEnforce, []string{"ak"}, []string{"s"}, &memNonces{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Check(context.Background(), h); err != nil {
			t.Fatal(err)
		}
	})
}
