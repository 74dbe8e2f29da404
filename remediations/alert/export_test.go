package alert

import "github.com/bucketguard/bucketguard/remediations"

// Size of the message for r before any cut.
func SizeUncut(r remediations.Result) int { return build(document(r)).Size() }
