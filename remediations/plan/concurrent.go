package plan

import (
	"fmt"
	"strings"

	"github.com/bucketguard/bucketguard/remediations/op"
)

// Rewrites reports whether a step writes the bucket policy or the ACL: the
// settings S3 has no conditional write for, read again just before the
// write.
func (st Step) Rewrites() bool {
	return st.AccessPoint == nil && (st.Op == op.PutBucketPolicy || st.Op == op.DeleteBucketPolicy || st.Op == op.PutBucketAcl)
}

// Replanned says, in a plan made again after concurrent changes, which
// settings changed between bucketguard's read and its write: the fix was
// planned from what is there now, so the change is kept.
func (p *Plan) Replanned(changed []string) {
	for _, what := range changed {
		p.Findings = append(p.Findings, Finding{ID: ConcurrentChange, Severity: Info, Setting: "policy",
			Summary: fmt.Sprintf("the %s changed between bucketguard's read and its write; the fix was planned again from what is there now, so the change is kept", what)})
	}
}

// GiveUp drops the policy and ACL writes of a plan whose settings keep
// changing (or could not be read again), and reports it: no one's change
// is overwritten.
func (p Plan) GiveUp(changed []string, why string) Plan {
	what := strings.Join(changed, " and ")
	reason := fmt.Sprintf("the %s %s: not written, so that no one's change is overwritten", what, why)
	var steps []Step
	dropped := map[ActionName]bool{}
	for _, st := range p.Steps {
		if st.Rewrites() {
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
	p.Findings = append(p.Findings, Finding{ID: ConcurrentChangeNotWritten, Severity: High, Setting: "policy", Summary: reason})
	p.Unresolved = append(p.Unresolved, "the "+what+" could not be fixed: "+why)
	return p
}
