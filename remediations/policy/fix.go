package policy

import "encoding/json"

// New returns an empty document, the starting point when a bucket has no
// policy and one statement must be added.
func New() *Document { return &Document{stmtMember: -1} }

// FixOptions says what a fixed policy must satisfy.
type FixOptions struct {
	// KeepPublicRead keeps public statements that grant only reads: the
	// bucket is approved for public read. Public writes go regardless.
	KeepPublicRead bool
	// RequireTLS adds the TLS-only deny statement when none is present.
	RequireTLS bool
	Partition  string
	Bucket     string
}

// Fix is the result of fixing a policy.
type Fix struct {
	// Dropped are the indexes of the removed public statements.
	Dropped []int
	// KeptPublicRead are the indexes of public-read statements kept because
	// the bucket is approved.
	KeptPublicRead []int
	// AddedTLS is true when the TLS-only statement was added, as TLSSid.
	AddedTLS bool
	TLSSid   string
	// Policy is the new document; Empty means delete the policy instead.
	Policy []byte
	Empty  bool
}

// Changed reports whether the fix changes anything.
func (f Fix) Changed() bool { return len(f.Dropped) > 0 || f.AddedTLS }

// Fix removes what must go and adds what must be there. It never edits a
// statement: each one is kept byte for byte or dropped whole, and the only
// statement it adds is a Deny.
func (d *Document) Fix(o FixOptions) Fix {
	var f Fix
	drop := map[int]bool{}
	for _, s := range d.Statements {
		v := s.Judge()
		switch {
		case !v.Public:
		case o.KeepPublicRead && !v.Write:
			f.KeptPublicRead = append(f.KeptPublicRead, s.Index)
		default:
			drop[s.Index] = true
			f.Dropped = append(f.Dropped, s.Index)
		}
	}
	var add [][]byte
	if o.RequireTLS && !d.RequiresTLS(o.Partition, o.Bucket) {
		f.AddedTLS = true
		f.TLSSid = d.FreeSid(TLSSid)
		add = append(add, DenyInsecureTransport(o.Partition, o.Bucket, f.TLSSid))
	}
	if !f.Changed() {
		return f
	}
	raws := make([]json.RawMessage, len(add))
	for i, a := range add {
		raws[i] = a
	}
	f.Policy, f.Empty = d.Rewrite(drop, raws...)
	return f
}
