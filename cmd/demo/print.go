package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// printIncident prints the compact before/after table and the alert as the
// owner reads it (the e-mail text, rendered from the delivered document).
func printIncident(w io.Writer, inc incident, before, after posture.Posture, docs []alert.Document, problems []string, took time.Duration) {
	fmt.Fprintf(w, "\n== %s (owner %s) ==\n", inc.bucket, inc.owner)
	fmt.Fprintf(w, "   %s called %s: %s\n\n", inc.actor, inc.event, inc.story)
	rows := [][3]string{
		{"setting", "before", "after"},
		{"Block Public Access", bpaSummary(before), bpaSummary(after)},
		{"bucket policy", policySummary(before), policySummary(after)},
		{"ACL", aclSummary(before), aclSummary(after)},
		{"default encryption", encSummary(before), encSummary(after)},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "   %-20s %-44s %s\n", r[0], r[1], r[2])
	}
	state := "right"
	if len(problems) > 0 {
		state = "WRONG: " + strings.Join(problems, "; ")
	}
	fmt.Fprintf(w, "   %-20s %s (handled in %d ms)\n", "end state", state, took.Milliseconds())
	if len(docs) == 0 {
		fmt.Fprintf(w, "   %-20s none (nothing to fix)\n", "alert")
		return
	}
	for _, d := range docs {
		fmt.Fprintf(w, "\n   alert in the owner's queue (SNS → SQS), as the e-mail reads:\n")
		fmt.Fprintf(w, "   | Subject: %s\n", d.Subject())
		for _, line := range strings.Split(strings.TrimRight(d.Text(), "\n"), "\n") {
			if len(line) > 118 {
				line = line[:115] + "..."
			}
			fmt.Fprintf(w, "   | %s\n", line)
		}
	}
}

func bpaSummary(p posture.Posture) string {
	f := p.BucketBPA
	switch {
	case f.State == posture.Absent:
		return "off (not configured)"
	case f.State != posture.Set:
		return "unknown"
	case f.Value == posture.AllOn:
		return "all four on"
	case f.Value == (posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}):
		return "ACLs blocked; policy may be public"
	}
	return "partly off: " + strings.Join(f.Value.Off(posture.AllOn), ", ")
}

func policySummary(p posture.Posture) string {
	if p.Policy.State != posture.Set {
		return "none"
	}
	d, err := policy.Parse([]byte(p.Policy.Value))
	if err != nil {
		return "unreadable"
	}
	r := policy.Judge(d)
	n := 0
	var kinds []string
	for _, s := range r.Statements {
		if s.Public {
			n++
		}
	}
	if r.PublicRead {
		kinds = append(kinds, "read")
	}
	if r.PublicWrite {
		kinds = append(kinds, "write")
	}
	out := fmt.Sprintf("%d stmt, %d public", len(d.Statements), n)
	if len(kinds) > 0 {
		out += " (" + strings.Join(kinds, "+") + ")"
	}
	if d.RequiresTLS(p.Partition(), p.Bucket) {
		out += ", TLS-only"
	}
	return out
}

func aclSummary(p posture.Posture) string {
	if p.ACL.State != posture.Set {
		return "unknown"
	}
	var parts []string
	for _, g := range p.ACL.Value.Grants {
		who := "user"
		switch {
		case g.Grantee.ID == p.ACL.Value.Owner.ID:
			who = "owner"
		case g.Grantee.URI != "":
			who = g.Grantee.URI[strings.LastIndex(g.Grantee.URI, "/")+1:]
		}
		if who == "owner" && g.Permission == "FULL_CONTROL" {
			continue
		}
		mark := ""
		if g.Judge().Public {
			mark = " (public)"
		}
		parts = append(parts, who+" "+g.Permission+mark)
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "owner only"
	}
	return "owner, " + strings.Join(parts, ", ")
}

func encSummary(p posture.Posture) string {
	switch {
	case p.Encryption.State == posture.Absent:
		return "none"
	case p.Encryption.State != posture.Set:
		return "unknown"
	case p.Encryption.Value.Algorithm == "AES256":
		return "SSE-S3"
	}
	return "SSE-KMS " + p.Encryption.Value.KMSKeyID
}
