package remediations_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/plan"
)

// hostilePool is text of what JSON escaping inflates most, with runes of
// every width.
var hostilePool = func() string {
	alphabet := []string{"<", ">", "&", `"`, `\`, "\u2028", "é", "😀", "a", "\x01"}
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for b.Len() < 64*1024 {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}()

// hostileText is about n bytes of hostilePool, from a random place.
func hostileText(r *rand.Rand, n int) string {
	n = min(n, len(hostilePool)-8)
	i := r.IntN(len(hostilePool) - n)
	for i > 0 && !utf8.RuneStart(hostilePool[i]) {
		i--
	}
	j := i + n
	for j < len(hostilePool) && !utf8.RuneStart(hostilePool[j]) {
		j++
	}
	return hostilePool[i:j]
}

// The journal fits its record for any input: whatever the counts and the
// lengths, Encode's output is at most MaxJournal bytes, valid JSON that
// decodes back, says what it cut, and keeps the most severe finding.
func TestJournalSizeBoundProperty(t *testing.T) {
	severities := []plan.Severity{plan.Info, plan.Low, plan.Medium, plan.High}
	for seed := uint64(0); seed < 16; seed++ {
		r := rand.New(rand.NewPCG(seed, 15))
		scale := []int{1, 30, 300, 1200}[seed%4]
		var j remediations.Journal
		for i := range r.IntN(scale) + scale {
			j.Findings = append(j.Findings, plan.Finding{ID: plan.PublicAccessPointStatement, Severity: severities[r.IntN(len(severities))],
				Setting: "access-point", AccessPoint: fmt.Sprintf("ap-%04d", i), Summary: hostileText(r, r.IntN(3000))})
		}
		// The one critical finding comes last in plan order.
		j.Findings = append(j.Findings, plan.Finding{ID: plan.DeniesBucketguard, Severity: plan.Critical, Setting: "policy", Summary: "a Deny refuses bucketguard"})
		for i := range r.IntN(min(scale, 300)) + 1 {
			a := plan.Action{Name: plan.RemovePublicPolicyStatements, Setting: "policy", Why: hostileText(r, r.IntN(2000)),
				Before: hostileText(r, r.IntN(20000)), After: hostileText(r, r.IntN(20000))}
			if i > 0 {
				a.AccessPoint = fmt.Sprintf("ap-%04d", i)
			}
			j.Actions = append(j.Actions, a)
		}
		for range r.IntN(200) {
			j.Notes = append(j.Notes, hostileText(r, r.IntN(5000)))
			j.Unresolved = append(j.Unresolved, hostileText(r, r.IntN(5000)))
		}
		j.Exemption = &plan.Exemption{Tag: hostileText(r, 3000), KeptStatements: make([]int, r.IntN(100000))}
		b, err := j.Encode()
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if len(b) > remediations.MaxJournal {
			t.Fatalf("seed %d: %d bytes, over %d", seed, len(b), remediations.MaxJournal)
		}
		if !utf8.Valid(b) {
			t.Fatalf("seed %d: not UTF-8", seed)
		}
		got, err := remediations.ParseJournal(b)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		whole, _ := json.Marshal(j)
		if len(whole) > remediations.MaxJournal && len(got.Cut) == 0 {
			t.Errorf("seed %d: %d bytes shortened to %d, and Cut says nothing", seed, len(whole), len(b))
		}
		if plan.Worst(got.Findings) != plan.Critical {
			t.Errorf("seed %d: the critical finding was cut (%d of %d findings kept)", seed, len(got.Findings), len(j.Findings))
		}
		if len(got.Actions) > 0 && got.Actions[0].AccessPoint != "" {
			t.Errorf("seed %d: the bucket's own action was cut before an access point's", seed)
		}
	}
}

// A journal that fits is kept whole.
func TestSmallJournalIsKeptWhole(t *testing.T) {
	j := remediations.Journal{Findings: []plan.Finding{{ID: plan.BPAOff, Severity: plan.Medium, Setting: "bpa", Summary: "off"}},
		Actions: []plan.Action{{Name: plan.BlockPublicAccess, Setting: "bpa", Before: "off", After: "all four on"}}}
	b, err := j.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := remediations.ParseJournal(b)
	if err != nil || len(got.Cut) != 0 || len(got.Findings) != 1 || got.Actions[0].Before != "off" {
		t.Fatalf("got %+v, %v", got, err)
	}
}
