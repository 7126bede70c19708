// Package proto holds the wire contracts of refundledger: the Xportcn callback
// envelope and bodies as Go types, decoded tolerantly, and the JSON of the
// events this project emits.
//
// Tolerance rules (see README "What Xportcn sends"):
//   - messageBody is an object or a JSON-encoded string;
//   - ids (envelope id, developId, orderId, refund id, operation id,
//     orderEntryId) exceed 2^53 and are kept as decimal strings, never float64;
//   - times come as epoch ms (number or string), "yyyyMMddHHmmssSSS+0800" or
//     "yyyy-MM-dd HH:mm:ss" (China time); all become epoch milliseconds UTC;
//   - fields may be missing, null or of the other JSON type (number vs string).
//
// Everything not decoded stays in the raw bytes, which are the record.
//
// The package imports the standard library only.
package proto
