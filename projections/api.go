package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"refundledger/ledger"
	"refundledger/proto"
)

// Status is the answer of GET /v1/status: how far the projection is behind
// the stream. A caller that wrote a callback can poll until Lag is 0.
type Status struct {
	StreamLastSeq uint64           `json:"streamLastSeq"`
	Checkpoint    uint64           `json:"checkpoint"`
	Lag           uint64           `json:"lag"`
	FoldVersion   int              `json:"foldVersion"` // of the live projection (0: empty)
	Layout        int              `json:"layout"`      // of the live projection's store (0: empty)
	Counts        Counts           `json:"counts"`
	Rebuild       *RebuildProgress `json:"rebuild"` // null unless a rebuild is under way
	Audit         *AuditProgress   `json:"audit"`   // null unless GET /v1/audit is running
	Relay         *RelayStatus     `json:"relay"`   // null when this server publishes no events
}

// AuditProgress is how far a running audit's fold of the stream has got:
// Folded of Total messages (the live checkpoint when it started). The
// comparison of keys after it is quick and not counted.
type AuditProgress struct {
	Folded    uint64    `json:"folded"`
	Total     uint64    `json:"total"`
	StartedAt time.Time `json:"startedAt"`
}

// API serves the read side on the admin listener. It is safe for concurrent use.
type API struct {
	Projection *Projection
	// LastSeq returns the stream's last sequence.
	LastSeq func(context.Context) (uint64, error)
	Logger  *slog.Logger
	// Metrics, when set, writes the metrics of other parts (the ingester)
	// after the projection's, on GET /metrics.
	Metrics func(*proto.Metrics)
	// Relay, when set, is the relay publishing this projection's facts:
	// GET /v1/status and /metrics show what it did.
	Relay *Relay
	// Audit, when set, serves GET /v1/audit: it checks the live projection
	// against a fresh fold of the stream (see Audit), reporting its fold's
	// progress to progress (as AuditConfig.Progress), which GET /v1/status
	// shows. One runs at a time.
	Audit func(ctx context.Context, progress func(folded, total uint64)) (AuditReport, error)

	// AuditEvents, when set, serves GET /v1/audit/events: REFUND_EVENTS
	// checked against the outbox (see AuditEvents). One runs at a time.
	AuditEvents func(context.Context) (EventsReport, error)

	auditing       sync.Mutex
	auditProgress  atomic.Pointer[AuditProgress]
	auditingEvents sync.Mutex
}

// Handler returns the admin routes:
//
//	GET /v1/refunds?platform=&status=&phase=&order=&updatedSince=&limit=&cursor=
//	GET /v1/refunds/{platform}/{refundId}
//	GET /v1/refunds/{platform}/{refundId}/history
//	GET /v1/orders/{platform}/{orderId}
//	GET /v1/status
//	GET /v1/report   refunds and money by platform and phase, anomalies
//	GET /v1/audit    the projection checked against a fresh fold of the stream
//	GET /v1/audit/events  REFUND_EVENTS checked against the outbox
//	GET /healthz   the process serves
//	GET /readyz    the stream is reachable and no rebuild is under way
//	GET /metrics   Prometheus text format
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/refunds", a.listRefunds)
	mux.HandleFunc("GET /v1/refunds/{platform}/{refundId}", a.getRefund)
	mux.HandleFunc("GET /v1/refunds/{platform}/{refundId}/history", a.getHistory)
	mux.HandleFunc("GET /v1/orders/{platform}/{orderId}", a.getOrder)
	mux.HandleFunc("GET /v1/status", a.getStatus)
	mux.HandleFunc("GET /v1/report", a.getReport)
	mux.HandleFunc("GET /v1/audit", a.getAudit)
	mux.HandleFunc("GET /v1/audit/events", a.getAuditEvents)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		proto.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", a.getReady)
	mux.HandleFunc("GET /metrics", a.getMetrics)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		proto.WriteError(w, http.StatusNotFound, proto.CodeNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return mux
}

func (a *API) getRefund(w http.ResponseWriter, r *http.Request) {
	p, ok := a.platform(w, r)
	if !ok {
		return
	}
	id := r.PathValue("refundId")
	rec, err := a.Projection.Store().Refund(p, id)
	if a.fail(w, err, "refund "+string(p)+"/"+id) {
		return
	}
	proto.WriteJSON(w, http.StatusOK, rec.State)
}

func (a *API) getHistory(w http.ResponseWriter, r *http.Request) {
	p, ok := a.platform(w, r)
	if !ok {
		return
	}
	id := r.PathValue("refundId")
	h, err := a.Projection.Store().RefundHistory(p, id)
	if a.fail(w, err, "refund "+string(p)+"/"+id) {
		return
	}
	proto.WriteJSON(w, http.StatusOK, h)
}

func (a *API) listRefunds(w http.ResponseWriter, r *http.Request) {
	f, err := parseRefundFilter(r.URL.Query())
	if err != nil {
		proto.WriteError(w, http.StatusBadRequest, proto.CodeBadRequest, err.Error())
		return
	}
	page, err := a.Projection.Store().ListRefunds(f)
	if errors.Is(err, ErrBadCursor) {
		proto.WriteError(w, http.StatusBadRequest, proto.CodeBadRequest, "cursor: not one this server issued for these filters")
		return
	}
	if a.fail(w, err, "refund list") {
		return
	}
	proto.WriteJSON(w, http.StatusOK, page)
}

func (a *API) getOrder(w http.ResponseWriter, r *http.Request) {
	p, ok := a.platform(w, r)
	if !ok {
		return
	}
	id := r.PathValue("orderId")
	rec, err := a.Projection.Store().Order(p, id)
	if a.fail(w, err, "order "+string(p)+"/"+id) {
		return
	}
	proto.WriteJSON(w, http.StatusOK, orderJSON(rec.State))
}

// orderJSON is the order as the API shows it: an empty list is [], as in a
// refund, not null.
func orderJSON(o ledger.Order) ledger.Order {
	if o.StatusHistory == nil {
		o.StatusHistory = []ledger.OrderTotals{}
	}
	if o.PriceHistory == nil {
		o.PriceHistory = []ledger.PriceChange{}
	}
	if o.Refunds == nil {
		o.Refunds = []ledger.RefundLink{}
	}
	if o.Anomalies == nil {
		o.Anomalies = []ledger.Anomaly{}
	}
	return o
}

func (a *API) getStatus(w http.ResponseWriter, r *http.Request) {
	last, err := a.LastSeq(r.Context())
	if err != nil {
		a.Logger.Warn("status: stream info", "err", err)
		proto.WriteError(w, http.StatusServiceUnavailable, proto.CodeUnavailable, "the stream cannot be reached: "+err.Error())
		return
	}
	built, err := a.Projection.Store().BuiltBy()
	if a.fail(w, err, "what built the store") {
		return
	}
	st := Status{StreamLastSeq: last, Checkpoint: a.Projection.Checkpoint(), FoldVersion: built.FoldVersion, Layout: built.Layout,
		Counts: a.Projection.Counts(), Rebuild: a.Projection.Rebuilding(), Audit: a.auditProgress.Load()}
	if last > st.Checkpoint {
		st.Lag = last - st.Checkpoint
	}
	if a.Relay != nil {
		rs := a.Relay.Status()
		st.Relay = &rs
	}
	proto.WriteJSON(w, http.StatusOK, st)
}

func (a *API) getReport(w http.ResponseWriter, r *http.Request) {
	rep, err := a.Projection.Store().Report()
	if a.fail(w, err, "report") {
		return
	}
	proto.WriteJSON(w, http.StatusOK, rep)
}

func (a *API) getAuditEvents(w http.ResponseWriter, r *http.Request) {
	if a.AuditEvents == nil {
		proto.WriteError(w, http.StatusNotFound, proto.CodeNotFound, "this server does not audit events")
		return
	}
	if !a.auditingEvents.TryLock() {
		proto.WriteError(w, http.StatusConflict, proto.CodeConflict, "an audit of the events is already running")
		return
	}
	defer a.auditingEvents.Unlock()
	rep, err := a.AuditEvents(r.Context())
	if a.fail(w, err, "audit events") {
		return
	}
	proto.WriteJSON(w, http.StatusOK, rep)
}

func (a *API) getAudit(w http.ResponseWriter, r *http.Request) {
	if a.Audit == nil {
		proto.WriteError(w, http.StatusNotFound, proto.CodeNotFound, "this server does not audit")
		return
	}
	if !a.auditing.TryLock() {
		proto.WriteError(w, http.StatusConflict, proto.CodeConflict, "an audit is already running")
		return
	}
	defer a.auditing.Unlock()
	started := time.Now().UTC()
	a.auditProgress.Store(&AuditProgress{StartedAt: started})
	defer a.auditProgress.Store(nil)
	rep, err := a.Audit(r.Context(), func(folded, total uint64) {
		a.auditProgress.Store(&AuditProgress{Folded: folded, Total: total, StartedAt: started})
	})
	if a.fail(w, err, "audit") {
		return
	}
	proto.WriteJSON(w, http.StatusOK, rep)
}

func (a *API) getReady(w http.ResponseWriter, r *http.Request) {
	if _, err := a.LastSeq(r.Context()); err != nil {
		proto.WriteError(w, http.StatusServiceUnavailable, proto.CodeUnavailable, "the stream cannot be reached: "+err.Error())
		return
	}
	if rb := a.Projection.Rebuilding(); rb != nil {
		proto.WriteError(w, http.StatusServiceUnavailable, proto.CodeUnavailable,
			fmt.Sprintf("rebuilding the projection: %d of %d callbacks folded", rb.Checkpoint, rb.Target))
		return
	}
	proto.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (a *API) getMetrics(w http.ResponseWriter, r *http.Request) {
	last, err := a.LastSeq(r.Context())
	if err != nil {
		a.Logger.Warn("metrics: stream info", "err", err)
	}
	var buf bytes.Buffer
	m := proto.NewMetrics(&buf)
	a.Projection.WriteMetrics(m, last)
	if a.Relay != nil {
		a.Relay.WriteMetrics(m)
	}
	if a.Metrics != nil {
		a.Metrics(m)
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	w.Write(buf.Bytes())
}

func (a *API) platform(w http.ResponseWriter, r *http.Request) (proto.Platform, bool) {
	p, ok := proto.ParsePlatform(r.PathValue("platform"))
	if !ok {
		proto.WriteError(w, http.StatusBadRequest, proto.CodeBadRequest, "platform must be 1688 or taobao, not "+r.PathValue("platform"))
	}
	return p, ok
}

// fail maps err to its answer; it reports whether it answered.
func (a *API) fail(w http.ResponseWriter, err error, what string) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrNotFound):
		proto.WriteError(w, http.StatusNotFound, proto.CodeNotFound, what+" is not in the ledger")
	default:
		a.Logger.Error("query", "what", what, "err", err)
		proto.WriteError(w, http.StatusInternalServerError, proto.CodeInternal, "reading "+what+" failed")
	}
	return true
}
