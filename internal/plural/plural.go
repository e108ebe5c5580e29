// Package plural words a count in English: "1 hour", "8 characters".
package plural

import "strconv"

// Count returns n followed by the noun, in the plural (an "s" added)
// unless n is 1.
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
