package ingest

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"

	"refundledger/proto"
)

// Defaults of Config.
const (
	DefaultMaxBody        = 1 << 20                // bytes (1 MiB)
	DefaultMaxInFlight    = 256                    // concurrent POSTs being processed
	DefaultPublishTimeout = 700 * time.Millisecond // Xportcn gives up after 1000 ms
)

// headerReserve is the room (bytes) kept for NATS headers when the body limit
// is checked against the server's max_payload.
const headerReserve = 4 << 10

// bodyChunk is the most memory reserved for a body before its bytes arrive.
const bodyChunk = 64 << 10

// maxHeaderValue bounds header values derived from outside bytes.
const maxHeaderValue = 256

// Config configures a Handler. JS is required; everything else has a default.
type Config struct {
	// JS publishes to StreamName, which must exist (see EnsureStream).
	JS jetstream.JetStream
	// Verifier checks signatures; nil means ModeOff (a warning is logged by New).
	Verifier *Verifier
	// MaxBody is the largest body accepted, in bytes; larger is 413, and no
	// more than MaxBody+1 bytes are read. Default DefaultMaxBody, lowered to
	// the server's max_payload minus 4 KiB when that is smaller (New fails if
	// an explicit MaxBody does not fit: raise max_payload, e.g. to 2 MiB).
	MaxBody int64
	// MaxInFlight bounds the POSTs processed at once; beyond it the answer is
	// an immediate 503 with Retry-After. Default DefaultMaxInFlight.
	MaxInFlight int
	// PublishTimeout bounds the wait for JetStream's ack (and the nonce
	// claim); past it the answer is 503. Default DefaultPublishTimeout.
	PublishTimeout time.Duration
	// Now is the clock for receipts and received-at; default time.Now.
	Now func() time.Time
	// Logger receives warnings and failures; default slog.Default().
	Logger *slog.Logger
}

// Handler is the Xportcn callback endpoint. It serves any path: the caller
// mounts it (cmd mounts it at /callbacks/xportcn). It is safe for concurrent
// use.
type Handler struct {
	js             jetstream.JetStream
	verifier       *Verifier
	maxBody        int64
	publishTimeout time.Duration
	now            func() time.Time
	log            *slog.Logger
	slots          chan struct{}
	stream         atomic.Pointer[jetstream.Stream]

	mu      sync.RWMutex
	closed  bool
	pending sync.WaitGroup

	c counters
}

// New validates cfg, applies defaults and returns a Handler. It logs a
// warning when signature verification is off.
func New(cfg Config) (*Handler, error) {
	if cfg.JS == nil {
		return nil, errors.New("ingest: Config.JS is required")
	}
	h := &Handler{
		js:             cfg.JS,
		verifier:       cfg.Verifier,
		maxBody:        cfg.MaxBody,
		publishTimeout: cfg.PublishTimeout,
		now:            cfg.Now,
		log:            cfg.Logger,
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.publishTimeout <= 0 {
		h.publishTimeout = DefaultPublishTimeout
	}
	n := cfg.MaxInFlight
	if n <= 0 {
		n = DefaultMaxInFlight
	}
	h.slots = make(chan struct{}, n)
	var limit int64
	if nc := cfg.JS.Conn(); nc != nil && nc.MaxPayload() > 0 {
		limit = nc.MaxPayload() - headerReserve
	}
	switch {
	case h.maxBody < 0:
		return nil, fmt.Errorf("ingest: MaxBody %d is negative", h.maxBody)
	case h.maxBody == 0:
		h.maxBody = DefaultMaxBody
		if limit > 0 && limit < h.maxBody {
			h.log.Warn("ingest: body limit lowered to fit the NATS max_payload; raise max_payload to 2 MiB to accept 1 MiB callbacks",
				"max_body", limit, "max_payload", limit+headerReserve)
			h.maxBody = limit
		}
	case limit > 0 && h.maxBody > limit:
		return nil, fmt.Errorf("ingest: MaxBody %d does not fit the NATS max_payload %d (minus %d for headers)", h.maxBody, limit+headerReserve, headerReserve)
	}
	if h.verifier == nil {
		h.log.Warn("ingest: signature verification is off: any caller can store callbacks; to check signatures, set " +
			EnvAccessKey + " and " + EnvAccessSecret + " and leave --verify unset (enforce) or at record")
	}
	return h, nil
}

// MaxBody returns the effective body limit in bytes.
func (h *Handler) MaxBody() int64 { return h.maxBody }

// Stats returns a snapshot of the counters.
func (h *Handler) Stats() Stats { return h.c.snapshot() }

// Close stops accepting callbacks (new POSTs are answered 503) and waits for
// the ones in flight to be answered, or for ctx to end, whichever is first.
// It does not close the NATS connection. Calling it twice is harmless.
func (h *Handler) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	done := make(chan struct{})
	go func() {
		h.pending.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("ingest: close: %d callbacks still in flight: %w", h.c.inFlight.Load(), ctx.Err())
	}
}

// ServeHTTP answers one request; see README.md for the table of answers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.c.probe.Add(1)
		writeSuccess(w, "")
		return
	case http.MethodPost:
	default:
		h.c.methodNotAllowed.Add(1)
		writeError(w, CodeMethodNotAllowed, "use POST for callbacks (GET and HEAD answer the console's probe)")
		return
	}
	if !h.enter() {
		h.c.overloaded.Add(1)
		writeError(w, CodeUnavailable, "shutting down")
		return
	}
	defer h.pending.Done()
	select {
	case h.slots <- struct{}{}:
	default:
		h.c.overloaded.Add(1)
		writeError(w, CodeUnavailable, "too many callbacks in flight")
		return
	}
	h.c.inFlight.Add(1)
	defer func() {
		h.c.inFlight.Add(-1)
		<-h.slots
	}()
	h.servePost(w, r)
}

// enter registers a request unless the handler is closed.
func (h *Handler) enter() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return false
	}
	h.pending.Add(1)
	return true
}

func (h *Handler) servePost(w http.ResponseWriter, r *http.Request) {
	received := h.now()
	body, err := h.readBody(w, r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &tooLarge):
			h.c.tooLarge.Add(1)
			writeError(w, CodePayloadTooLarge, fmt.Sprintf("body exceeds %d bytes", h.maxBody))
		case errors.As(err, &ne) && ne.Timeout():
			h.c.readTimeout.Add(1)
			writeError(w, CodeRequestTimeout, "body not received in time")
		default:
			h.c.badRequest.Add(1)
			writeError(w, CodeBadRequest, "body could not be read")
		}
		return
	}
	if isProbeBody(body) {
		h.c.probe.Add(1)
		writeSuccess(w, "")
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.publishTimeout)
	defer cancel()
	sig, err := h.verifier.Check(ctx, r.Header)
	if err != nil {
		h.c.unavailable.Add(1)
		h.log.Error("ingest: nonce store unavailable", "err", err)
		writeError(w, CodeUnavailable, "signature nonce store unavailable")
		return
	}
	h.c.signature(sig)
	if h.verifier.Mode() == ModeEnforce && sig != ResultOK {
		h.c.unauthorized.Add(1)
		writeError(w, CodeUnauthorized, "signature "+string(sig))
		return
	}

	// crypto/rand rather than ulid's default entropy, which serialises every
	// request on one locked math/rand source; receipts need not be monotonic.
	receipt := ulid.MustNew(ulid.Timestamp(received), cryptorand.Reader).String()
	msg := &nats.Msg{Data: body, Header: make(nats.Header, 8)}
	msg.Header.Set(HeaderReceiptID, receipt)
	msg.Header.Set(HeaderReceivedAt, received.UTC().Format(time.RFC3339Nano))
	msg.Header.Set(HeaderSignature, string(sig))

	// A body that is not JSON, or JSON that is no envelope, is kept in the
	// quarantine subject with the reason: what passed the signature check is
	// never dropped. Not-JSON is still answered 400, so that Xportcn retries
	// (a transport may have cut the body); an identical retry is a duplicate.
	route, err := proto.DecodeRoute(body)
	unknown, quarantined := false, false
	notJSON := errors.Is(err, proto.ErrNotJSON)
	switch {
	case err != nil:
		quarantined = true
		msg.Subject = QuarantineSubject
		msg.Header.Set(HeaderQuarantine, headerValue(err.Error()))
		msg.Header.Set(jetstream.MsgIDHeader, quarantineMsgID(body))
	default:
		unknown = !proto.IsKnownType(route.Type)
		msg.Subject = Subject(route)
		msg.Header.Set(jetstream.MsgIDHeader, MsgID(route))
		if route.ID != "" {
			msg.Header.Set(HeaderMessageID, headerValue(route.ID))
		}
		msg.Header.Set(HeaderRetryCount, strconv.FormatInt(route.RetryCount, 10))
	}

	ack, err := h.publish(ctx, msg)
	if err != nil {
		h.c.unavailable.Add(1)
		h.log.Warn("ingest: publish failed", "subject", msg.Subject, "receipt", receipt, "err", err)
		if sig == ResultOK {
			h.releaseNonce(r.Header.Clone())
		}
		writeError(w, CodeUnavailable, "callback not stored, retry later")
		return
	}
	if unknown {
		h.c.unknownType.Add(1)
	}
	if ack.Duplicate {
		receipt = h.originalReceipt(ctx, ack.Sequence)
	}
	if quarantined {
		// The receipt logged is the stored one (a duplicate's original).
		h.c.quarantined.Add(1)
		h.log.Warn("ingest: body quarantined", "receipt", receipt, "seq", ack.Sequence, "duplicate", ack.Duplicate,
			"reason", msg.Header.Get(HeaderQuarantine))
	}
	switch {
	case notJSON && receipt == "": // a duplicate whose original could not be read back
		h.c.badRequest.Add(1)
		writeError(w, CodeBadRequest, "body is not JSON (kept in quarantine)")
	case notJSON:
		h.c.badRequest.Add(1)
		writeError(w, CodeBadRequest, fmt.Sprintf("body is not JSON (kept in quarantine, receipt %s)", receipt))
	case ack.Duplicate:
		h.c.duplicate.Add(1)
		writeSuccess(w, receipt)
	default:
		h.c.accepted.Add(1)
		writeSuccess(w, receipt)
	}
}

// errDuplicateInProcess is JetStream's answer to a message whose
// Nats-Msg-Id another publish is storing at that moment (a replicated
// stream: the first copy is not yet committed); it is neither stored nor a
// duplicate yet.
const errDuplicateInProcess = 10158

// publish stores msg in the stream. When Xportcn's copies of one callback
// arrive together on a replicated stream, all but the first are answered
// "duplicate message id is in process": they are published again, a few
// milliseconds apart within ctx, until the first is stored and they are
// duplicates of it (or it failed, and one of them is stored instead).
func (h *Handler) publish(ctx context.Context, msg *nats.Msg) (*jetstream.PubAck, error) {
	wait := 5 * time.Millisecond
	for {
		ack, err := h.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(StreamName))
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != errDuplicateInProcess {
			return ack, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// nonceReleaseTimeout bounds giving back the nonce of a callback that was not
// stored.
const nonceReleaseTimeout = 2 * time.Second

// releaseNonce gives back the nonce that the signature check claimed for a
// callback that was then not stored, so that the same request sent again is
// not refused as a replay (and its callback lost). It runs beside the 503,
// which need not wait for it; Close does.
func (h *Handler) releaseNonce(hdr http.Header) {
	h.pending.Add(1) // the request holds one: Close has not returned
	go func() {
		defer h.pending.Done()
		ctx, cancel := context.WithTimeout(context.Background(), nonceReleaseTimeout)
		defer cancel()
		if err := h.verifier.Release(ctx, hdr); err != nil {
			h.log.Warn("ingest: the nonce of a callback not stored could not be given back; "+
				"the same request sent again within the replay window will be refused", "err", err)
		}
	}()
}

// readBody reads the whole body, failing with *http.MaxBytesError past
// h.maxBody without reading further.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > h.maxBody {
		return nil, &http.MaxBytesError{Limit: h.maxBody}
	}
	rd := http.MaxBytesReader(w, r.Body, h.maxBody)
	// Grow with what arrives rather than trusting Content-Length, so a client
	// announcing a large body and sending nothing holds little memory.
	// bytes.Buffer.ReadFrom grows the buffer whenever less than MinRead is
	// free, so room for the whole body plus MinRead reads it without a copy.
	size := int64(bodyChunk)
	if r.ContentLength >= 0 && r.ContentLength < size {
		size = r.ContentLength + bytes.MinRead
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	if _, err := buf.ReadFrom(rd); err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return buf.Bytes(), nil
}

// originalReceipt reads back the receipt id of the stored message a
// duplicate was matched to; "" when it cannot be read in time.
func (h *Handler) originalReceipt(ctx context.Context, seq uint64) string {
	sp := h.stream.Load()
	if sp == nil {
		s, err := h.js.Stream(ctx, StreamName)
		if err != nil {
			h.log.Warn("ingest: duplicate: stream lookup", "err", err)
			return ""
		}
		h.stream.Store(&s)
		sp = &s
	}
	m, err := (*sp).GetMsg(ctx, seq)
	if err != nil {
		h.log.Warn("ingest: duplicate: read original", "seq", seq, "err", err)
		return ""
	}
	return m.Header.Get(HeaderReceiptID)
}

// isProbeBody reports a body that carries nothing: empty, only JSON
// whitespace, or an empty JSON object. The console's "Verify" button may send
// such a POST. Other spaces (U+00A0, U+2028, ...) are not JSON whitespace:
// such a body is not JSON, and is kept in quarantine like any other.
func isProbeBody(b []byte) bool {
	b = trimJSONSpace(b)
	if len(b) == 0 {
		return true
	}
	if b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	return len(trimJSONSpace(b[1:len(b)-1])) == 0
}

// trimJSONSpace removes JSON's whitespace (space, tab, CR, LF) around b.
func trimJSONSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

// headerValue makes outside text safe as a NATS header value: control bytes
// become spaces and the length is bounded.
func headerValue(s string) string {
	if len(s) > maxHeaderValue {
		s = s[:maxHeaderValue]
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = ' '
		}
	}
	return string(b)
}
