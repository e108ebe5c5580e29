package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/keel-dev/keel"
)

// createSuperuserCmd runs `keel createsuperuser -email ...`. The password
// never comes from a flag (flags show in ps and shell history): it is
// read from the terminal without echo, or as one line of stdin.
func createSuperuserCmd(ctx context.Context, args []string, sio stdio, env lookupFunc) error {
	fs := flagSet("createsuperuser", sio.err, "createsuperuser -email address [-full-name name] [-env-file file] < password", func(w io.Writer) {
		fmt.Fprintln(w, "The password is asked for twice when stdin is a terminal; otherwise it is the first line of stdin.")
	})
	email := fs.String("email", "", "the superuser's `address` (required)")
	fullName := fs.String("full-name", "", "the superuser's full `name`")
	envFile := envFileFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"createsuperuser takes no arguments (the password is read from stdin, never from the command line)"}
	}
	if strings.TrimSpace(*email) == "" {
		return usageError{"-email is required"}
	}
	c, err := loadStoredConfig(fs, *envFile, env, "keeps nothing once this command ends; set FIRST_SUPERUSER for serve instead")
	if err != nil {
		return err
	}
	password, err := readPassword(sio.in, sio.err)
	if err != nil {
		return err
	}
	log := newLogger(c, sio.err)
	s, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer s.Close()
	if c.Migrate {
		if err := migrateUp(ctx, s, log); err != nil {
			return err
		}
	}
	svc, err := newService(c, s, log)
	if err != nil {
		return err
	}
	u, err := createSuperuser(ctx, svc, *email, *fullName, password)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(sio.out, "Created superuser %s (%s).\n", u.Email, u.ID)
	return err
}

// createSuperuser creates an active superuser and words keel's refusals
// for a terminal.
func createSuperuser(ctx context.Context, svc *keel.Service, email, fullName, password string) (*keel.User, error) {
	in := keel.SignUpInput{Email: email, Password: password}
	if fullName != "" {
		in.FullName = &fullName
	}
	u, err := svc.Bootstrap(ctx, in)
	if err == nil {
		return u, nil
	}
	var kerr *keel.Error
	if errors.As(err, &kerr) && kerr.Code == keel.Invalid && len(kerr.Fields) > 0 {
		var b strings.Builder
		for i, f := range kerr.Fields {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s %s", f.Field, f.Message)
		}
		return nil, errors.New(b.String())
	}
	if keel.ErrorCode(err) == keel.Conflict {
		return nil, fmt.Errorf("a user with the email %s already exists", keel.NormalizeEmail(email))
	}
	return nil, err
}

// maxPasswordLine bounds the line read from stdin: keel's longest
// password is 128 code points of up to 4 bytes.
const maxPasswordLine = 4 * keel.MaxPasswordLength

// readPassword reads the password: from the terminal, without echo and
// twice, when in is one; otherwise the first line of in (without its line
// ending).
func readPassword(in io.Reader, prompt io.Writer) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return readPasswordTerminal(int(f.Fd()), prompt)
	}
	return readPasswordLine(in)
}

func readPasswordTerminal(fd int, prompt io.Writer) (string, error) {
	fmt.Fprint(prompt, "Password: ")
	first, err := term.ReadPassword(fd)
	fmt.Fprintln(prompt)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	fmt.Fprint(prompt, "Password (again): ")
	second, err := term.ReadPassword(fd)
	fmt.Fprintln(prompt)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	if string(first) != string(second) {
		return "", errors.New("the passwords do not match")
	}
	if len(first) == 0 {
		return "", errors.New("the password is empty")
	}
	return string(first), nil
}

func readPasswordLine(in io.Reader) (string, error) {
	r := bufio.NewReaderSize(io.LimitReader(in, maxPasswordLine+2), maxPasswordLine+2)
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	if errors.Is(err, io.EOF) && len(line) > maxPasswordLine {
		return "", fmt.Errorf("the password line is longer than %d bytes", maxPasswordLine)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("no password on stdin: give it as the first line (or run in a terminal to be asked)")
	}
	return line, nil
}
