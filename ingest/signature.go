package ingest

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Mode says what the ingester does with a callback whose signature is not ok.
type Mode string

// The verification modes (flag --verify).
const (
	// ModeEnforce answers 401 and stores nothing unless the signature is ok
	// and its nonce is fresh. Default when a secret is configured.
	ModeEnforce Mode = "enforce"
	// ModeRecord stores every callback and records the check's result in
	// HeaderSignature; it is the roll-out mode.
	ModeRecord Mode = "record"
	// ModeOff checks nothing; stored messages carry HeaderSignature "off".
	// Default when no secret is configured; New logs a warning.
	ModeOff Mode = "off"
)

// Result is the outcome of a signature check, as written in HeaderSignature.
type Result string

// The signature results.
const (
	ResultOK       Result = "ok"       // signature matches one configured secret, nonce fresh
	ResultBad      Result = "bad"      // wrong access-key, signature or malformed timestamp
	ResultMissing  Result = "missing"  // one of access-key, timestamp, nonce-str, signature absent
	ResultStale    Result = "stale"    // timestamp further than MaxSkew from now
	ResultReplayed Result = "replayed" // valid signature, but its nonce was seen within the window
	ResultOff      Result = "off"      // verification disabled
)

// Request header names Xportcn sends (CALLBACKS.md).
const (
	HeaderAccessKey = "access-key"
	HeaderTimestamp = "timestamp"
	HeaderNonce     = "nonce-str"
	HeaderSignValue = "signature"
)

// MaxSkew is the documented clock skew Xportcn allows between the
// signature's timestamp and the receiver's clock.
const MaxSkew = 600 * time.Second

// Environment variables read by VerifierFromEnv. Secrets are never taken from
// a flag (flags show in process listings and shell history).
const (
	EnvAccessKey        = "REFUNDLEDGER_ACCESS_KEY"         // comma list of accepted access keys
	EnvAccessSecret     = "REFUNDLEDGER_ACCESS_SECRET"      // comma list of accepted secrets (rotation)
	EnvAccessSecretFile = "REFUNDLEDGER_ACCESS_SECRET_FILE" // file of secrets: commas or newlines, # comments
)

// Errors returned when building a Verifier.
var (
	// ErrNoSecret: a mode that checks signatures was asked for without a secret.
	ErrNoSecret = errors.New("signature verification needs " + EnvAccessKey + " and " + EnvAccessSecret + " (or " + EnvAccessSecretFile + ")")
	// ErrBadMode: the mode is not enforce, record or off.
	ErrBadMode = errors.New("verify mode must be enforce, record or off")
)

// SignedHeaders are the signature fields of one request, as sent.
type SignedHeaders struct {
	AccessKey string
	Timestamp string // 10 digits (seconds) or 13 digits (milliseconds)
	Nonce     string
	Signature string // 32 hex digits, compared case-insensitively
}

// ParseSignedHeaders reads the signature fields from h. It returns
// ResultMissing when any of them is absent or blank, ResultBad when the
// timestamp is not 10 or 13 digits or the signature is not 32 hex digits, and
// ResultOK otherwise; the returned time is the timestamp. It never panics
// and does no I/O.
func ParseSignedHeaders(h http.Header) (SignedHeaders, time.Time, Result) {
	s := SignedHeaders{
		AccessKey: strings.TrimSpace(h.Get(HeaderAccessKey)),
		Timestamp: strings.TrimSpace(h.Get(HeaderTimestamp)),
		Nonce:     strings.TrimSpace(h.Get(HeaderNonce)),
		Signature: strings.TrimSpace(h.Get(HeaderSignValue)),
	}
	if s.AccessKey == "" || s.Timestamp == "" || s.Nonce == "" || s.Signature == "" {
		return s, time.Time{}, ResultMissing
	}
	ts, ok := parseSignTimestamp(s.Timestamp)
	if !ok || len(s.Signature) != 2*md5.Size {
		return s, time.Time{}, ResultBad
	}
	if _, err := hex.DecodeString(s.Signature); err != nil {
		return s, time.Time{}, ResultBad
	}
	return s, ts, ResultOK
}

// parseSignTimestamp accepts epoch seconds (10 digits) or milliseconds (13).
func parseSignTimestamp(s string) (time.Time, bool) {
	if len(s) != 10 && len(s) != 13 {
		return time.Time{}, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return time.Time{}, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	if len(s) == 10 {
		return time.Unix(n, 0), true
	}
	return time.UnixMilli(n), true
}

// Sign returns UPPER(HEX(MD5(accessKey + timestamp + nonce + secret))), the
// signature formula inferred in CALLBACKS.md. Tests and the generator use it
// to produce valid requests.
func Sign(accessKey, timestamp, nonce, secret string) string {
	sum := md5.Sum([]byte(accessKey + timestamp + nonce + secret))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// Verifier checks Xportcn's request signature and nonce freshness. It is
// safe for concurrent use.
type Verifier struct {
	mode    Mode
	keys    []string
	secrets []string
	nonces  NonceStore
	now     func() time.Time
}

// NewVerifier returns a verifier accepting any of keys with any of secrets
// (several at once during a rotation). nonces is required: it is the
// cluster-wide replay guard. mode must be ModeEnforce or ModeRecord; use a nil
// *Verifier for ModeOff. now defaults to time.Now.
func NewVerifier(mode Mode, keys, secrets []string, nonces NonceStore, now func() time.Time) (*Verifier, error) {
	if mode != ModeEnforce && mode != ModeRecord {
		return nil, fmt.Errorf("new verifier: mode %q: %w", mode, ErrBadMode)
	}
	keys, secrets = nonEmpty(keys), nonEmpty(secrets)
	if len(keys) == 0 || len(secrets) == 0 {
		return nil, fmt.Errorf("new verifier: %w", ErrNoSecret)
	}
	if nonces == nil {
		return nil, errors.New("new verifier: a nonce store is required")
	}
	if now == nil {
		now = time.Now
	}
	return &Verifier{mode: mode, keys: keys, secrets: secrets, nonces: nonces, now: now}, nil
}

// VerifyConfig is the signature check the operator configured: a mode
// (ModeOff: no check) and, for the others, the keys and secrets.
type VerifyConfig struct {
	Mode    Mode
	Keys    []string
	Secrets []string
}

// VerifyConfigFromEnv reads the signature check the operator configured:
//
//   - keys from REFUNDLEDGER_ACCESS_KEY (comma list);
//   - secrets from REFUNDLEDGER_ACCESS_SECRET (comma list, several during a
//     rotation) and, if set, from the file named by
//     REFUNDLEDGER_ACCESS_SECRET_FILE (secrets separated by commas or
//     newlines; lines starting with # ignored); both sources are merged;
//   - mode "" means enforce when a key and a secret are configured, off
//     otherwise; "enforce" or "record" without them is ErrNoSecret.
//
// It needs nothing but the environment, so that a bad configuration is
// refused before anything starts. getenv is os.Getenv in production.
func VerifyConfigFromEnv(getenv func(string) string, mode string) (VerifyConfig, error) {
	keys := splitList(getenv(EnvAccessKey))
	secrets := splitList(getenv(EnvAccessSecret))
	if path := strings.TrimSpace(getenv(EnvAccessSecretFile)); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return VerifyConfig{}, fmt.Errorf("read %s: %w", EnvAccessSecretFile, err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			secrets = append(secrets, splitList(line)...)
		}
	}
	configured := len(keys) > 0 && len(secrets) > 0
	m := Mode(strings.TrimSpace(mode))
	switch m {
	case "":
		if !configured {
			return VerifyConfig{Mode: ModeOff}, nil
		}
		m = ModeEnforce
	case ModeOff:
		return VerifyConfig{Mode: ModeOff}, nil
	case ModeEnforce, ModeRecord:
		if !configured {
			return VerifyConfig{}, fmt.Errorf("verify %s: %w", m, ErrNoSecret)
		}
	default:
		return VerifyConfig{}, fmt.Errorf("verify %q: %w", mode, ErrBadMode)
	}
	return VerifyConfig{Mode: m, Keys: keys, Secrets: secrets}, nil
}

// VerifierFromEnv builds the verifier VerifyConfigFromEnv reads, with the
// cluster-wide nonce store. It returns (nil, nil) for mode off: a nil
// *Verifier disables checking.
func VerifierFromEnv(getenv func(string) string, mode string, nonces NonceStore) (*Verifier, error) {
	c, err := VerifyConfigFromEnv(getenv, mode)
	if err != nil || c.Mode == ModeOff {
		return nil, err
	}
	return NewVerifier(c.Mode, c.Keys, c.Secrets, nonces, nil)
}

// Mode returns the verifier's mode; ModeOff for a nil verifier.
func (v *Verifier) Mode() Mode {
	if v == nil {
		return ModeOff
	}
	return v.mode
}

// Check verifies the signature headers of one request and, when the
// signature is valid and fresh, claims its nonce in the NonceStore (so the
// same nonce is refused by every ingester of the cluster for the TTL). The
// key and signature comparisons take constant time over all configured keys
// and secrets. The error is non-nil only when the nonce store failed; the
// result is then meaningless and the request must be answered 503.
func (v *Verifier) Check(ctx context.Context, h http.Header) (Result, error) {
	if v == nil {
		return ResultOff, nil
	}
	s, ts, res := ParseSignedHeaders(h)
	if res != ResultOK {
		return res, nil
	}
	keyOK := 0
	for _, k := range v.keys {
		keyOK |= subtle.ConstantTimeCompare([]byte(k), []byte(s.AccessKey))
	}
	got := []byte(strings.ToUpper(s.Signature))
	sigOK := 0
	for _, secret := range v.secrets {
		want := Sign(s.AccessKey, s.Timestamp, s.Nonce, secret)
		sigOK |= subtle.ConstantTimeCompare([]byte(want), got)
	}
	if keyOK&sigOK != 1 {
		return ResultBad, nil
	}
	if d := v.now().Sub(ts); d > MaxSkew || d < -MaxSkew {
		return ResultStale, nil
	}
	fresh, err := v.nonces.Claim(ctx, s.AccessKey, s.Nonce)
	if err != nil {
		return "", fmt.Errorf("claim nonce: %w", err)
	}
	if !fresh {
		return ResultReplayed, nil
	}
	return ResultOK, nil
}

// Release gives back the nonce of headers h, which Check claimed (it answered
// ResultOK), for a request that was then not stored: sent again, the same
// request is not refused as a replay.
func (v *Verifier) Release(ctx context.Context, h http.Header) error {
	if v == nil {
		return nil
	}
	s, _, res := ParseSignedHeaders(h)
	if res != ResultOK {
		return nil
	}
	return v.nonces.Release(ctx, s.AccessKey, s.Nonce)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func nonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
