package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unicode"

	"github.com/joho/godotenv"
)

// readDotenv reads a .env file. A missing file is no error unless
// required (the file was named explicitly). A malformed line is reported
// by its number, never by its text: it may hold a secret.
func readDotenv(path string, required bool) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	// A byte-order mark (some editors write one) is not part of the first name.
	src = bytes.TrimPrefix(src, []byte("\ufeff"))
	if _, err := scanDotenv(src); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	m, err := godotenv.UnmarshalBytes(src)
	if err != nil {
		// checkDotenv accepts only what godotenv reads (FuzzCheckDotenv);
		// godotenv's own message quotes the rest of the file, secrets and all.
		return nil, fmt.Errorf("reading %s: the file is malformed", path)
	}
	return m, nil
}

// scanDotenv returns the names a .env file sets, or an error naming the
// first malformed line: every line must be blank, a # comment, or
// [export ]NAME=value, where a value in quotes may span lines and be
// followed by a comment only. It refuses what godotenv would refuse or
// misread, and more (NAME: value, text after a closing quote), so that a
// mistake is reported instead of read as something else.
func scanDotenv(src []byte) (names []string, err error) {
	lines := strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		n := i + 1
		line := strings.TrimLeftFunc(lines[i], unicode.IsSpace)
		if line == "" || line[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && isDotenvSpace(rune(rest[0])) {
			line = strings.TrimLeftFunc(rest, isDotenvSpace)
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: want NAME=value", n)
		}
		name = strings.TrimRightFunc(name, isDotenvSpace)
		if !isVariableName(name) {
			return nil, fmt.Errorf("line %d: the name before = must be letters, digits, _ and . (starting with a letter or _)", n)
		}
		names = append(names, name)
		value = strings.TrimLeftFunc(value, isDotenvSpace)
		if value == "" || (value[0] != '"' && value[0] != '\'') {
			// Unquoted: the rest of the line. godotenv would end it at a
			// lone carriage return and read what follows as a new line.
			if strings.ContainsRune(value, '\r') {
				return nil, fmt.Errorf("line %d: a carriage return in the middle of the line", n)
			}
			continue
		}
		// A quoted value ends at the next quote of its kind not preceded by
		// a backslash (godotenv's rule, for either quote), on this line or
		// a later one.
		quote, text, start := value[0], value[1:], n
		for {
			if end := closingQuote(text, quote); end >= 0 {
				after := strings.TrimLeftFunc(text[end+1:], isDotenvSpace)
				if after != "" && after[0] != '#' {
					return nil, fmt.Errorf("line %d: only a # comment may follow the closing quote", i+1)
				}
				break
			}
			i++
			if i == len(lines) {
				return nil, fmt.Errorf("line %d: the quoted value that starts here never ends", start)
			}
			text = lines[i]
		}
	}
	return names, nil
}

// closingQuote is the index in s of the first quote not preceded by a
// backslash, or -1.
func closingQuote(s string, quote byte) int {
	for j := 0; j < len(s); j++ {
		if s[j] == quote && (j == 0 || s[j-1] != '\\') {
			return j
		}
	}
	return -1
}

// isDotenvSpace is godotenv's space: blank but not a line break.
func isDotenvSpace(r rune) bool {
	switch r {
	case '\t', '\v', '\f', '\r', ' ', 0x85, 0xA0:
		return true
	}
	return false
}

func isVariableName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z':
		case i > 0 && (r == '.' || '0' <= r && r <= '9'):
		default:
			return false
		}
	}
	return true
}
