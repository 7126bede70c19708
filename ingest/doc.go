// Package ingest is the HTTP endpoint that receives Xportcn callbacks and
// files them, byte for byte, in the JetStream stream XPORTCN_CALLBACKS.
//
// # Guarantees
//
//   - A request is answered 200 with a receipt only after JetStream has
//     acknowledged the message (or reported it as a duplicate of a message it
//     already holds). Every other outcome is an error answer in one JSON shape,
//     {"error":{"code":"<snake_code>","message":"<text>"}}, and the sender may
//     retry.
//   - Nothing received with a valid envelope is dropped: unknown message types
//     are stored under their own subject and counted; JSON bodies that are not
//     envelopes are stored under QuarantineSubject with a reason header.
//   - The hot path reads the body once (bounded by Config.MaxBody) and decodes
//     only what routing needs (proto.DecodeRoute).
//   - When NATS is slow or down the answer is 503 within Config.PublishTimeout
//     (700 ms by default, inside Xportcn's 1000 ms budget); ingest recovers by
//     itself when the connection comes back (nats.go reconnects).
//
// See README.md in this folder for the full request → answer → stored table.
package ingest
