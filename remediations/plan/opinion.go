package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Question is a policy the plan writes, as AWS's own check (IAM Access
// Analyzer's CheckNoPublicAccess) is asked about it.
type Question struct {
	// Step is the index of the step that writes it.
	Step int
	// Document is what is checked: the written policy, less the public-read
	// statements an approval keeps (those are public on purpose).
	Document string
	// AccessPoint is true for an access point's policy.
	AccessPoint bool
	// Where names the policy for a person.
	Where string
}

// Questions are the policies the plan writes that AWS can check: the
// bucket's and its access points' (AWS's check has no resource type for
// Object Lambda and Multi-Region Access Points).
func (p Plan) Questions() []Question {
	var qs []Question
	for i, st := range p.Steps {
		switch {
		case st.Op == op.PutBucketPolicy:
			if doc, ok := withoutPublicRead(st.Policy); ok {
				qs = append(qs, Question{Step: i, Document: doc, Where: "the bucket policy"})
			}
		case st.Op == op.PutAccessPointPolicy && st.AccessPoint != nil:
			qs = append(qs, Question{Step: i, Document: st.Policy, AccessPoint: true, Where: "the policy of " + st.AccessPoint.AccessPointRef.String()})
		}
	}
	return qs
}

// withoutPublicRead is a policy less the statements bucketguard's judge
// finds public (those left are the ones an approval keeps); false when
// nothing is left to check.
func withoutPublicRead(doc string) (string, bool) {
	d, err := policy.Parse([]byte(doc))
	if err != nil {
		return doc, true // AWS is asked about it as it is
	}
	f := d.Fix(policy.FixOptions{})
	switch {
	case f.Empty:
		return "", false
	case !f.Changed():
		return doc, true
	}
	return string(f.Policy), true
}

// Answer is AWS's verdict on one question.
type Answer struct {
	Question
	Public  bool
	Reasons []string
	// Unavailable says why AWS could not be asked.
	Unavailable string
}

// Heed takes AWS's answers into the plan. Where AWS says a policy the plan
// writes is public, bucketguard's own judge found nothing public left in
// it: AWS wins. The disagreement is a finding naming both reasons, and the
// bucket's Block Public Access is turned on in full (fail closed) rather
// than trusting the rewrite alone; the rewrite itself still goes out (it
// removes what bucketguard knows to be public). Where AWS could not be
// asked, the plan is unchanged and says so.
func (p Plan) Heed(answers []Answer, bpa posture.Fact[posture.BPA]) Plan {
	failClosed := false
	for _, a := range answers {
		switch {
		case a.Unavailable != "":
			p.Notes = append(p.Notes, fmt.Sprintf("AWS's own check (IAM Access Analyzer) could not judge %s bucketguard wrote (%s): it was written on bucketguard's judgement alone", a.Where, a.Unavailable))
		case a.Public:
			p.Findings = append(p.Findings, Finding{ID: AWSJudgesFixPublic, Severity: High, Setting: "policy", AccessPoint: p.Steps[a.Step].AccessPointName(),
				Summary: fmt.Sprintf("AWS's own check (IAM Access Analyzer) judges %s bucketguard is writing public (%s), where bucketguard's judge finds no public statement left in it; AWS wins: Block Public Access is turned on in full", a.Where, strings.Join(a.Reasons, "; "))})
			failClosed = true
		}
	}
	if failClosed {
		p = p.blockAll(bpa)
	}
	return p
}

// blockAll makes the plan turn on all four Block Public Access settings of
// the bucket, in the step that writes them, or a new one.
func (p Plan) blockAll(bpa posture.Fact[posture.BPA]) Plan {
	on := posture.AllOn
	why := "turn on all four Block Public Access settings: AWS judges a policy being written public"
	p.Steps = append([]Step(nil), p.Steps...)
	p.Actions = append([]Action(nil), p.Actions...)
	for i, st := range p.Steps {
		if st.Op == op.PutPublicAccessBlock {
			p.Steps[i].BPA = &on
			for j, a := range p.Actions {
				if a.Name == BlockPublicAccess && a.AccessPoint == "" {
					p.Actions[j].After, p.Actions[j].Why = DescribeBPA(on), why
				}
			}
			return p
		}
	}
	if bpa.State == posture.Set && bpa.Value.Covers(on) {
		return p
	}
	// The bucket's own actions come before the access points' (a journal
	// that must be shortened keeps the first).
	a := Action{Name: BlockPublicAccess, Setting: "bpa", Op: op.PutPublicAccessBlock, Why: why, Before: DescribeBPAFact(bpa), After: DescribeBPA(on)}
	i := slices.IndexFunc(p.Actions, func(a Action) bool { return a.AccessPoint != "" })
	if i < 0 {
		i = len(p.Actions)
	}
	p.Actions = slices.Insert(p.Actions, i, a)
	p.Steps = append(p.Steps, Step{Op: op.PutPublicAccessBlock, BPA: &on, Actions: []ActionName{BlockPublicAccess}})
	return p
}
