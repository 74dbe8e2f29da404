package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Reread is the read that must be made again just before a step's write,
// or "" when none is needed. S3 has no conditional write: a write planned
// from the read round would undo a change made since then (a new partner
// statement, a setting the owner just turned on, a stronger key). Block
// Public Access with all four on can only tighten, so it needs none.
func (st Step) Reread() op.Operation {
	switch {
	case st.AccessPoint != nil:
		return ""
	case st.Op == op.PutBucketPolicy || st.Op == op.DeleteBucketPolicy:
		return op.GetBucketPolicy
	case st.Op == op.PutBucketAcl:
		return op.GetBucketAcl
	case st.Op == op.PutPublicAccessBlock && st.BPA != nil && *st.BPA != posture.AllOn:
		return op.GetPublicAccessBlock
	case st.Op == op.PutBucketEncryption:
		return op.GetBucketEncryption
	}
	return ""
}

// Reread names the settings the reads of Reread read.
var Reread = map[op.Operation]string{
	op.GetBucketPolicy:      "bucket policy",
	op.GetBucketAcl:         "ACL",
	op.GetPublicAccessBlock: "bucket Block Public Access",
	op.GetBucketEncryption:  "default encryption",
}

// Replanned says, in a plan made again after concurrent changes, which
// settings changed between bucketguard's read and its write: the fix was
// planned from what is there now, so the change is kept.
func (p *Plan) Replanned(changed []string) {
	for _, what := range changed {
		p.Findings = append(p.Findings, Finding{ID: ConcurrentChange, Severity: Info, Setting: "concurrent",
			Summary: fmt.Sprintf("the %s changed between bucketguard's read and its write; the fix was planned again from what is there now, so the change is kept", what)})
	}
}

// GiveUp drops the writes of a plan whose settings (named by the reads
// that read them again) keep changing or could not be read again, and
// reports it: no one's change is overwritten.
func (p Plan) GiveUp(reads []op.Operation, why string) Plan {
	var names []string
	for _, r := range reads {
		names = append(names, Reread[r])
	}
	what := strings.Join(names, " and ")
	reason := fmt.Sprintf("the %s %s: not written, so that no one's change is overwritten", what, why)
	var steps []Step
	dropped := map[ActionName]bool{}
	for _, st := range p.Steps {
		if r := st.Reread(); r != "" && slices.Contains(reads, r) {
			for _, a := range st.Actions {
				dropped[a] = true
			}
			continue
		}
		steps = append(steps, st)
	}
	p.Actions = append([]Action(nil), p.Actions...)
	for i, a := range p.Actions {
		if a.AccessPoint == "" && dropped[a.Name] {
			p.Actions[i].Skipped = reason
		}
	}
	p.Steps = steps
	setting := map[op.Operation]string{op.GetBucketPolicy: "policy", op.GetBucketAcl: "acl", op.GetPublicAccessBlock: "bpa", op.GetBucketEncryption: "encryption"}[reads[0]]
	p.Findings = append(p.Findings, Finding{ID: ConcurrentChangeNotWritten, Severity: High, Setting: setting, Summary: reason})
	p.Unresolved = append(p.Unresolved, "the "+what+" could not be fixed: "+why)
	return p
}
