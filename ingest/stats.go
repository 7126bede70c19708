package ingest

import "sync/atomic"

// Stats are the handler's counters since New, one per outcome. Every request
// increments exactly one outcome counter (the fields from Accepted to
// Unavailable); the Signature* counters count check results and overlap
// with the outcomes. Safe to read at any time; values are monotonic except
// InFlight.
type Stats struct {
	Accepted         uint64 // 200, newly stored (includes unknown types and quarantined)
	Duplicate        uint64 // 200, JetStream already held the Nats-Msg-Id
	Probe            uint64 // 200, verification probe (GET, HEAD, empty POST), nothing stored
	BadRequest       uint64 // 400, not JSON (stored in quarantine) or unreadable body
	Unauthorized     uint64 // 401, signature not ok under ModeEnforce
	MethodNotAllowed uint64 // 405
	ReadTimeout      uint64 // 408, body too slow
	TooLarge         uint64 // 413
	Overloaded       uint64 // 503, MaxInFlight reached or shutting down
	Unavailable      uint64 // 503, NATS did not ack in time (or the nonce store failed)

	UnknownType uint64 // stored with a message type that is not documented (subset of Accepted+Duplicate)
	Quarantined uint64 // stored under QuarantineSubject (subset of Accepted+Duplicate+BadRequest)

	SignatureOK       uint64
	SignatureBad      uint64
	SignatureMissing  uint64
	SignatureStale    uint64
	SignatureReplayed uint64

	InFlight int64 // POSTs being processed now
}

type counters struct {
	accepted, duplicate, probe, badRequest, unauthorized, methodNotAllowed   atomic.Uint64
	readTimeout, tooLarge, overloaded, unavailable, unknownType, quarantined atomic.Uint64
	sigOK, sigBad, sigMissing, sigStale, sigReplayed                         atomic.Uint64
	inFlight                                                                 atomic.Int64
}

func (c *counters) signature(r Result) {
	switch r {
	case ResultOK:
		c.sigOK.Add(1)
	case ResultBad:
		c.sigBad.Add(1)
	case ResultMissing:
		c.sigMissing.Add(1)
	case ResultStale:
		c.sigStale.Add(1)
	case ResultReplayed:
		c.sigReplayed.Add(1)
	}
}

func (c *counters) snapshot() Stats {
	return Stats{
		Accepted:          c.accepted.Load(),
		Duplicate:         c.duplicate.Load(),
		Probe:             c.probe.Load(),
		BadRequest:        c.badRequest.Load(),
		Unauthorized:      c.unauthorized.Load(),
		MethodNotAllowed:  c.methodNotAllowed.Load(),
		ReadTimeout:       c.readTimeout.Load(),
		TooLarge:          c.tooLarge.Load(),
		Overloaded:        c.overloaded.Load(),
		Unavailable:       c.unavailable.Load(),
		UnknownType:       c.unknownType.Load(),
		Quarantined:       c.quarantined.Load(),
		SignatureOK:       c.sigOK.Load(),
		SignatureBad:      c.sigBad.Load(),
		SignatureMissing:  c.sigMissing.Load(),
		SignatureStale:    c.sigStale.Load(),
		SignatureReplayed: c.sigReplayed.Load(),
		InFlight:          c.inFlight.Load(),
	}
}
