package alert

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/plan"
)

// Text renders the e-mail body: what happened, what was found, what was
// done, and the before/after of every changed setting, enough to undo a fix
// by hand. A subscriber holding only the JSON document renders the same.
func (d Document) Text() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	for _, section := range []func(Document, func(string, ...any)){
		textHeader, textHappened, textFound, textDid, textExemption, textBeforeAfter, textNotes,
	} {
		section(d, p)
	}
	return b.String()
}

func textHeader(d Document, p func(string, ...any)) {
	p("bucketguard %s", d.Summary)
	p("")
	if d.Bucket != "" {
		p("Bucket:    %s", d.Bucket)
	}
	if d.AccessPoint != "" {
		p("Target:    %s", d.AccessPoint)
	}
	p("Account:   %s   Region: %s", d.Account, d.Region)
	p("Owner:     %s", d.Owner)
	p("Severity:  %s   Status: %s   Mode: %s", strings.ToUpper(string(d.Severity)), d.Status, d.Mode)
}

func textHappened(d Document, p func(string, ...any)) {
	switch {
	case d.Source == "sweep":
		p("")
		p("WHAT HAPPENED")
		p("  found by the scheduled sweep (run %s), not by an event", d.Run)
	case d.Source == "operator":
		p("")
		p("WHAT HAPPENED")
		p("  found when an operator ran bucketguard on the bucket")
	}
	if e := d.Event; e != nil {
		p("")
		p("WHAT HAPPENED")
		p("  %s at %s", e.Name, e.Time.UTC().Format(time.RFC3339))
		p("  by %s (%s)", e.ActorARN, orDash(e.ActorType))
		p("  from %s using %s", orDash(e.SourceIP), orDash(e.UserAgent))
		p("  CloudTrail event id %s", e.ID)
	}
}

func textFound(d Document, p func(string, ...any)) {
	p("")
	p("WHAT BUCKETGUARD FOUND")
	findings := slices.Clone(d.Findings)
	slices.SortStableFunc(findings, func(a, b plan.Finding) int {
		switch {
		case a.Severity.Worse(b.Severity):
			return -1
		case b.Severity.Worse(a.Severity):
			return 1
		}
		return 0
	})
	for _, f := range findings {
		p("  [%s] %s", f.Severity, f.Summary)
	}
}

func textDid(d Document, p func(string, ...any)) {
	if len(d.Actions) == 0 {
		return
	}
	p("")
	if d.Mode == "notify" {
		p("WHAT BUCKETGUARD WOULD DO (notify mode: nothing was changed)")
	} else {
		p("WHAT BUCKETGUARD DID")
	}
	for i, a := range d.Actions {
		p("  %d. %s: %s", i+1, a.Name, strings.ToUpper(string(a.Outcome)))
		p("     %s", a.Why)
		if a.Op != "" {
			p("     call: %s", a.Op)
		}
		if a.Error != "" {
			p("     error: %s", a.Error)
		}
		if a.Detail != "" {
			p("     %s", a.Detail)
		}
	}
}

func textExemption(d Document, p func(string, ...any)) {
	x := d.Exemption
	if x == nil {
		return
	}
	p("")
	p("EXEMPTION")
	switch x.Status {
	case plan.Approved:
		until := "with no expiry"
		if x.Until != nil {
			until = "until " + x.Until.UTC().Format(time.RFC3339)
		}
		p("  Public read is approved by tag %s %s.", x.Tag, until)
		if x.Used {
			p("  The exemption was used: public read was kept; public write, ACLs and encryption were enforced.")
		}
		if len(x.KeptStatements) > 0 {
			word := "statement"
			if len(x.KeptStatements) > 1 {
				word = "statements"
			}
			// Numbered from 0, like the findings.
			p("  Kept in place: public-read policy %s %s.", word, joinInts(x.KeptStatements))
		}
	case plan.Expired:
		p("  The approval tag %s expired and was enforced as if absent.", x.Tag)
	case plan.Invalid:
		p("  The approval tag %s has an unreadable expiry and was not honoured.", x.Tag)
	case plan.Unknown:
		p("  The tags could not be read; public read was left in place until they can be.")
	}
}

func textBeforeAfter(d Document, p func(string, ...any)) {
	var changes []remediations.ActionResult
	for _, a := range d.Actions {
		if a.Before != "" || a.After != "" {
			changes = append(changes, a)
		}
	}
	if len(changes) > 0 {
		p("")
		if d.Mode == "notify" {
			p("BEFORE AND PROPOSED (nothing was changed)")
		} else {
			p("BEFORE AND AFTER (to undo by hand)")
		}
		for _, a := range changes {
			p("  %s (%s)", a.Setting, a.Name)
			p("    before: %s", a.Before)
			p("    after:  %s", a.After)
		}
	}

}

func textNotes(d Document, p func(string, ...any)) {
	if d.Truncated {
		p("")
		p("SHORTENED to fit SNS's 256 KB limit; the marked values are incomplete. Cut:")
		for _, c := range d.Cut {
			p("  - %s", c)
		}
	}
	if len(d.Unresolved) > 0 {
		p("")
		p("PUBLIC ACCESS THAT MAY REMAIN")
		for _, u := range d.Unresolved {
			p("  %s", u)
		}
	}
	if len(d.Notes) == 0 && d.Error == "" {
		return
	}
	p("")
	p("NOTES")
	for _, n := range d.Notes {
		p("  %s", n)
	}
	if d.Error != "" {
		p("  stopped early: %s", d.Error)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
