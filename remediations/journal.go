package remediations

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bucketguard/bucketguard/remediations/plan"
)

// Journal is what an evaluation makes durable before its first write: what
// it found and the before-state of every setting it is about to write (in
// its actions). An invocation can die between two writes, or after the
// last (Lambda stops a function at its deadline); the retry then finds the
// work half done, or done, and without the journal could tell only what is
// left. With it, the retry tells the whole incident, once.
type Journal struct {
	Started    time.Time       `json:"started"`
	Findings   []plan.Finding  `json:"findings"`
	Actions    []plan.Action   `json:"actions"`
	Exemption  *plan.Exemption `json:"exemption,omitempty"`
	Notes      []string        `json:"notes,omitempty"`
	Unresolved []string        `json:"unresolved,omitempty"`
	// Cut says what was left out to keep the journal within MaxJournal.
	Cut []string `json:"cut,omitempty"`
}

// MaxJournal keeps a journal well inside DynamoDB's 400 KB item, beside
// the rest of the incident's record.
const MaxJournal = 300 * 1024

// Encode is the journal as stored: at most MaxJournal bytes for any input.
// When it would be longer, the least important goes first, and Cut says
// what went: the access points' before/after documents (to 16 KB, 1 KB,
// none), then every text to 1 KB and every list to 20 entries, then the
// least severe findings and the last actions (the bucket's come first), as
// few as it takes; the bucket's own documents only when nothing else is
// left to cut. Every part then being bounded, an empty journal fits.
func (j Journal) Encode() ([]byte, error) {
	b, err := json.Marshal(j)
	if err != nil || len(b) <= MaxJournal {
		return b, err
	}
	// The access points' documents go first: to 16 KB, 1 KB, none.
	for _, limit := range []int{16 * 1024, 1024, 0} {
		if b, err = json.Marshal(j.clipDocuments(limit, -1)); err != nil || len(b) <= MaxJournal {
			return b, err
		}
	}
	// Then the texts and the least severe findings; the bucket's own
	// documents (a bucket policy is at most 20 KB) go only when nothing
	// else is left to cut.
	for _, limit := range []int{-1, 16 * 1024, 1024, 0} {
		b, err := j.clipDocuments(0, limit).clipTexts(1024, 20).largest()
		if err != nil || b != nil {
			return b, err
		}
	}
	return nil, fmt.Errorf("journal of %d findings and %d actions is over %d bytes with none kept", len(j.Findings), len(j.Actions), MaxJournal)
}

// largest is the journal with as many findings (the most severe) and
// actions (the first) as fit within MaxJournal, each n at most; nil when
// even none fit.
func (j Journal) largest() ([]byte, error) {
	fit := func(n int) ([]byte, bool, error) {
		b, err := json.Marshal(j.keep(n))
		return b, err == nil && len(b) <= MaxJournal, err
	}
	b, ok, err := fit(0)
	if err != nil || !ok {
		return nil, err
	}
	lo, hi := 0, max(len(j.Findings), len(j.Actions))
	for lo < hi {
		mid := (lo + hi + 1) / 2
		mb, ok, err := fit(mid)
		switch {
		case err != nil:
			return nil, err
		case ok:
			lo, b = mid, mb
		default:
			hi = mid - 1
		}
	}
	return b, nil
}

// clipDocuments shortens the actions' before and after documents: an
// access point's to apLimit bytes, the bucket's to bucketLimit (-1: whole).
func (j Journal) clipDocuments(apLimit, bucketLimit int) Journal {
	acts := slices.Clone(j.Actions)
	n := 0
	for i := range acts {
		limit := bucketLimit
		if acts[i].AccessPoint != "" {
			limit = apLimit
		}
		for _, s := range []*string{&acts[i].Before, &acts[i].After} {
			if limit >= 0 && len(*s) > limit {
				*s, n = clip(*s, limit), n+1
			}
		}
	}
	j.Actions = acts
	if n > 0 {
		j.Cut = append(slices.Clip(j.Cut), fmt.Sprintf("%d before/after document(s) shortened (access points' first)", n))
	}
	return j
}

// clipTexts shortens every other text to limit bytes and the lists of
// notes and of what remains unresolved to n entries.
func (j Journal) clipTexts(limit, n int) Journal {
	fs, acts := slices.Clone(j.Findings), slices.Clone(j.Actions)
	texts := 0
	shorten := func(s *string) {
		if len(*s) > limit {
			*s, texts = clip(*s, limit), texts+1
		}
	}
	for i := range fs {
		shorten(&fs[i].Summary)
		shorten(&fs[i].Setting)
		shorten(&fs[i].AccessPoint)
	}
	for i := range acts {
		for _, s := range []*string{&acts[i].Why, &acts[i].Skipped, &acts[i].Setting, &acts[i].AccessPoint} {
			shorten(s)
		}
	}
	list := func(xs []string, what string) []string {
		out := slices.Clone(xs)
		for i := range out {
			shorten(&out[i])
		}
		if len(out) > n {
			j.Cut = append(slices.Clip(j.Cut), fmt.Sprintf("%d of %d %s", len(out)-n, len(out), what))
			out = out[:n]
		}
		return out
	}
	j.Notes, j.Unresolved = list(j.Notes, "notes"), list(j.Unresolved, "unresolved entries")
	if len(j.Cut) > n {
		j.Cut = append(slices.Clip(j.Cut[:n]), fmt.Sprintf("%d more cuts", len(j.Cut)-n))
	}
	for i := range j.Cut {
		shorten(&j.Cut[i])
	}
	if x := j.Exemption; x != nil {
		c := *x
		shorten(&c.Tag)
		if len(c.KeptStatements) > n {
			c.KeptStatements = c.KeptStatements[:n]
			j.Cut = append(slices.Clip(j.Cut), "statements kept by the approval beyond the first "+fmt.Sprint(n))
		}
		j.Exemption = &c
	}
	j.Findings, j.Actions = fs, acts
	if texts > 0 {
		j.Cut = append(slices.Clip(j.Cut), fmt.Sprintf("%d text(s), to %d bytes each", texts, limit))
	}
	return j
}

// keep keeps the n most severe findings and the first n actions.
func (j Journal) keep(n int) Journal {
	if len(j.Findings) > n {
		j.Cut = append(slices.Clip(j.Cut), fmt.Sprintf("%d of %d findings (the least severe)", len(j.Findings)-n, len(j.Findings)))
		j.Findings = plan.MostSevere(j.Findings, n)
	}
	if len(j.Actions) > n {
		j.Cut = append(slices.Clip(j.Cut), fmt.Sprintf("%d of %d actions", len(j.Actions)-n, len(j.Actions)))
		j.Actions = j.Actions[:n]
	}
	return j
}

// clip shortens s to at most n bytes of it, on a rune boundary, and says
// how much was kept.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + fmt.Sprintf("... [journal: %d of %d bytes kept]", n, len(s))
}

// ParseJournal decodes a stored journal.
func ParseJournal(b []byte) (Journal, error) {
	var j Journal
	if err := json.Unmarshal(b, &j); err != nil {
		return Journal{}, fmt.Errorf("decode journal: %w", err)
	}
	return j, nil
}

// Merge folds the journal of an earlier attempt into this result, so that
// its alert tells the whole incident: the earlier findings first (with
// their wording), then the new ones (a finding is the same when it says the
// same); each earlier action with this attempt's outcome if it ran it
// again, else, when this attempt read the bucket (checked), as written by
// the earlier attempt and found in place, and when it could not, as not
// known; the before-state as the earlier attempt read it.
func (r *Result) Merge(j Journal, checked bool) {
	key := func(f plan.Finding) string {
		return fmt.Sprintf("%s|%s|%s|%s", f.ID, f.Setting, f.AccessPoint, f.Summary)
	}
	seen := map[string]bool{}
	fs := []plan.Finding{}
	for _, f := range j.Findings {
		fs = append(fs, f)
		seen[key(f)] = true
	}
	for _, f := range r.Findings {
		if !seen[key(f)] {
			fs = append(fs, f)
		}
	}
	now := map[string]int{}
	for i, a := range r.Actions {
		now[a.Key()] = i
	}
	used := map[int]bool{}
	acts := []ActionResult{}
	for _, a := range j.Actions {
		if i, ok := now[a.Key()]; ok {
			cur := r.Actions[i]
			if a.Before != "" {
				cur.Before = a.Before
			}
			acts = append(acts, cur)
			used[i] = true
			continue
		}
		ar := ActionResult{Action: a, Outcome: Verified, Detail: "written by an earlier attempt; found in place by this one"}
		switch {
		case a.Skipped != "":
			ar.Outcome, ar.Detail = Skipped, a.Skipped
		case !checked:
			ar.Outcome, ar.Detail = Unverified, "planned by an earlier attempt; this attempt could not read the bucket to check it"
		}
		acts = append(acts, ar)
	}
	for i, a := range r.Actions {
		if !used[i] {
			acts = append(acts, a)
		}
	}
	r.Findings, r.Actions = fs, acts
	r.Unresolved = appendNew(j.Unresolved, r.Unresolved)
	r.Notes = append(appendNew(j.Notes, r.Notes), "an earlier attempt began this remediation and could not tell it; this alert tells all of it")
	if len(j.Cut) > 0 {
		r.Notes = append(r.Notes, "the earlier attempt's journal was shortened to fit its record ("+strings.Join(j.Cut, "; ")+")")
	}
	if r.Exemption == nil {
		r.Exemption = j.Exemption
	}
	if !j.Started.IsZero() {
		r.Started = j.Started
	}
	r.Severity = plan.Worst(fs)
	r.Status = status(*r, r.Mode)
}

func appendNew(base, more []string) []string {
	out := append([]string{}, base...)
	for _, m := range more {
		dup := false
		for _, b := range base {
			dup = dup || b == m
		}
		if !dup {
			out = append(out, m)
		}
	}
	return out
}
