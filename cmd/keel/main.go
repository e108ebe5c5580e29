// Command keel serves keel's HTTP API (the users, items and login backend
// of the FastAPI full-stack template) and administers its database.
//
//	keel [serve] [-addr host:port]    run the HTTP server (the default)
//	keel migrate [up|down|status]     apply, roll back or list migrations
//	keel createsuperuser -email ...   create a superuser (password from stdin)
//	keel unlock -email ...            lift the lockout failed logins put on an account
//	keel healthcheck [-addr ...]      ask the running server whether it is up
//	keel env [-markdown]              describe the environment variables
//	keel version (or -version)        print the version
//
// Configuration comes from environment variables and an optional .env
// file (the environment wins); `keel env` lists them all.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

// command is a subcommand: it parses its own flags from args.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, io stdio, env lookupFunc) error
}

// stdio are a command's standard streams.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

func commands() []command {
	return []command{
		{"serve", "run the HTTP server (the default command)", serveCmd},
		{"migrate", "apply (up, the default), roll back (down) or list (status) database migrations", migrateCmd},
		{"createsuperuser", "create a superuser; the password is read from the terminal or one line of stdin", createSuperuserCmd},
		{"unlock", "lift the lockout that failed logins from unknown clients put on an account", unlockCmd},
		{"healthcheck", "ask the running server whether it is up (exit code 0 or 1), for a container's HEALTHCHECK", healthcheckCmd},
		{"env", "describe every environment variable (-markdown for the README's table)", envCmd},
		{"version", "print the version", versionCmd},
	}
}

// run dispatches args to a command and returns the exit code: 0, 1 when
// the command failed, 2 for a usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env lookupFunc) int {
	name := "serve"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		usage(stdout)
		return 0
	}
	switch {
	case len(args) == 0:
	case args[0] == "-version" || args[0] == "--version":
		name, args = "version", args[1:]
	case args[0] != "" && args[0][0] != '-':
		name, args = args[0], args[1:]
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, args, stdio{stdin, stdout, stderr}, env)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, new(usageError)):
			fmt.Fprintf(stderr, "keel %s: %v\n", name, err)
			return 2
		default:
			fmt.Fprintf(stderr, "keel %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "keel: unknown command %q\n\n", name)
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: keel [command] [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-16s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run keel <command> -help for a command's flags; keel serve -help lists the environment variables.")
}

// usageError is a mistake in the command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// flagSet is a command's flag set that reports instead of exiting.
func flagSet(name string, stderr io.Writer, usageLine string, extra func(io.Writer)) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: keel %s\n", usageLine)
		if hasFlags(fs) {
			fmt.Fprintln(w)
			fmt.Fprintln(w, "Flags:")
			fs.PrintDefaults()
		}
		if extra != nil {
			fmt.Fprintln(w)
			extra(w)
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseFlags parses args; a bad flag is a usageError (flag has printed
// the usage already), -help is flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

// envFileFlag adds -env-file to a command that reads the configuration.
func envFileFlag(fs *flag.FlagSet) *string {
	return fs.String("env-file", ".env", "read variables from this `file` too (the environment wins); a missing .env is fine")
}

// loadConfigFiles reads the .env file (required when named explicitly)
// and the configuration.
// loadStoredConfig is loadConfigFiles for the commands that act on stored
// data: a memory: DATABASE_URL, gone when the command ends, is refused,
// saying why it is useless to that command.
func loadStoredConfig(fs *flag.FlagSet, envFile string, environ lookupFunc, why string) (config, error) {
	c, err := loadConfigFiles(fs, envFile, environ)
	if err != nil {
		return c, err
	}
	if c.isMemory() {
		return c, errors.New("DATABASE_URL is memory:, which " + why)
	}
	return c, nil
}

func loadConfigFiles(fs *flag.FlagSet, envFile string, environ lookupFunc) (config, error) {
	dotenv, err := readDotenv(envFile, explicitFlag(fs, "env-file"))
	if err != nil {
		return config{}, err
	}
	return loadConfig(envLookup(environ, dotenv))
}

// envCmd prints the table of variables.
func envCmd(_ context.Context, args []string, sio stdio, _ lookupFunc) error {
	fs := flagSet("env", sio.err, "env [-markdown]", nil)
	markdown := fs.Bool("markdown", false, "print a Markdown table (the README's)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"env takes no arguments"}
	}
	if *markdown {
		return writeSettingsMarkdown(sio.out)
	}
	return writeSettings(sio.out)
}
