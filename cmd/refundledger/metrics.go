package main

import (
	"refundledger/ingest"
	"refundledger/proto"
)

// ingestMetrics writes the ingester's counters for GET /metrics.
func ingestMetrics(h *ingest.Handler) func(*proto.Metrics) {
	return func(m *proto.Metrics) {
		s := h.Stats()
		const req, reqHelp = "refundledger_ingest_requests_total", "Callback requests, by outcome."
		for _, o := range []struct {
			name string
			v    uint64
		}{
			{"accepted", s.Accepted}, {"duplicate", s.Duplicate}, {"probe", s.Probe},
			{"bad_request", s.BadRequest}, {"unauthorized", s.Unauthorized}, {"method_not_allowed", s.MethodNotAllowed},
			{"read_timeout", s.ReadTimeout}, {"too_large", s.TooLarge}, {"overloaded", s.Overloaded}, {"unavailable", s.Unavailable},
		} {
			m.Counter(req, reqHelp, o.v, "outcome", o.name)
		}
		m.Counter("refundledger_ingest_unknown_type_total", "Callbacks stored with an undocumented message type.", s.UnknownType)
		m.Counter("refundledger_ingest_quarantined_total", "Callbacks stored in quarantine (not JSON, or JSON but not an envelope).", s.Quarantined)
		const sig, sigHelp = "refundledger_ingest_signatures_total", "Signature check results."
		for _, o := range []struct {
			name string
			v    uint64
		}{{"ok", s.SignatureOK}, {"bad", s.SignatureBad}, {"missing", s.SignatureMissing}, {"stale", s.SignatureStale}, {"replayed", s.SignatureReplayed}} {
			m.Counter(sig, sigHelp, o.v, "result", o.name)
		}
		m.Gauge("refundledger_ingest_in_flight", "Callback requests being processed.", float64(s.InFlight))
	}
}
