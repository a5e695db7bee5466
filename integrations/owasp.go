package integrations

import (
	"regexp"
	"strconv"
	"strings"
)

// owasp2021 names the OWASP Top 10:2021 categories.
var owasp2021 = map[int]string{
	1: "Broken Access Control", 2: "Cryptographic Failures", 3: "Injection", 4: "Insecure Design",
	5: "Security Misconfiguration", 6: "Vulnerable and Outdated Components",
	7: "Identification and Authentication Failures", 8: "Software and Data Integrity Failures",
	9: "Security Logging and Monitoring Failures", 10: "Server-Side Request Forgery",
}

// cweOWASP maps CWE numbers to their OWASP Top 10:2021 category (the CWEs
// OWASP lists under each; abridged to the ones web scanners report).
var cweOWASP = func() map[int]int {
	table := map[int][]int{
		1:  {22, 23, 35, 59, 200, 201, 284, 285, 352, 425, 601, 639, 862, 863},
		2:  {261, 296, 310, 319, 326, 327, 328, 330, 523, 757, 759, 760},
		3:  {20, 74, 77, 78, 79, 80, 88, 89, 90, 91, 94, 95, 113, 116, 564, 643, 917},
		4:  {73, 183, 209, 256, 501, 522, 656, 840},
		5:  {2, 11, 13, 15, 16, 260, 315, 520, 526, 537, 541, 547, 611, 614, 756, 776, 942, 1004, 1032},
		6:  {937, 1035, 1104},
		7:  {255, 259, 287, 288, 290, 294, 295, 297, 307, 384, 521, 613, 620, 640, 798},
		8:  {345, 353, 426, 494, 502, 565, 784, 829, 830, 915},
		9:  {117, 223, 532, 778},
		10: {918},
	}
	out := map[int]int{}
	for cat, cwes := range table {
		for _, c := range cwes {
			out[c] = cat
		}
	}
	return out
}()

// OWASPCategory is the OWASP Top 10:2021 category of a CWE, as
// "A03:2021 Injection"; "" when the CWE is in none of them.
func OWASPCategory(cwe int) string {
	return owaspName(cweOWASP[cwe])
}

var (
	owaspTag     = regexp.MustCompile(`(?i)\bA(0?[1-9]|10)\b`)
	owaspTag2021 = regexp.MustCompile(`(?i)\bA(0[1-9]|10):2021\b`)
)

// OWASPFromTag reads a 2021 category from a scanner's tag such as
// "OWASP 2021 A03" or "A03:2021"; "" when the tag names none (or another
// edition's: the 2017 list numbers its categories differently).
func OWASPFromTag(tag string) string {
	m := owaspTag2021.FindStringSubmatch(tag)
	if m == nil {
		lower := strings.ToLower(tag)
		if !strings.Contains(lower, "owasp") || !strings.Contains(lower, "2021") {
			return ""
		}
		if m = owaspTag.FindStringSubmatch(tag); m == nil {
			return ""
		}
	}
	n, _ := strconv.Atoi(m[1])
	return owaspName(n)
}

func owaspName(n int) string {
	name, ok := owasp2021[n]
	if !ok {
		return ""
	}
	id := strconv.Itoa(n)
	if n < 10 {
		id = "0" + id
	}
	return "A" + id + ":2021 " + name
}
