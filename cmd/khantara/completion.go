package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// The shell scripts ask the binary itself what to complete: urfave/cli
// answers a command line ending in --generate-bash-completion with the
// possible subcommands, or with the flags when the word being completed
// starts with "-". When it has nothing to offer, the scripts fall back to
// file names (for publish FILE, import DIR).

const bashCompletion = `# bash completion for khantara
_khantara() {
    local cur="${COMP_WORDS[COMP_CWORD]}"
    local -a prefix=("${COMP_WORDS[@]:0:COMP_CWORD}")
    local words
    if [[ "$cur" == -* ]]; then
        # A bare "--" would end the flags: ask with "-" instead.
        local flag="$cur"
        [[ "$flag" == "--" ]] && flag="-"
        words=$("${prefix[@]}" "$flag" --generate-bash-completion 2>/dev/null)
    else
        words=$("${prefix[@]}" --generate-bash-completion 2>/dev/null)
    fi
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -o bashdefault -F _khantara khantara
`

const zshCompletion = `#compdef khantara
# zsh completion for khantara
_khantara() {
    local cur="${words[CURRENT]}"
    local -a prefix candidates
    prefix=("${(@)words[1,CURRENT-1]}")
    if [[ "$cur" == -* ]]; then
        local flag="$cur"
        [[ "$flag" == "--" ]] && flag="-"
        candidates=("${(@f)$("${prefix[@]}" "$flag" --generate-bash-completion 2>/dev/null)}")
    else
        candidates=("${(@f)$("${prefix[@]}" --generate-bash-completion 2>/dev/null)}")
    fi
    candidates=("${(@)candidates:#}")
    if (( ${#candidates} )); then
        compadd -a candidates
    else
        _files
    fi
}
if [[ "$funcstack[1]" == "_khantara" ]]; then
    _khantara "$@"
else
    compdef _khantara khantara
fi
`

const powershellCompletion = `# PowerShell completion for khantara
Register-ArgumentCompleter -Native -CommandName khantara -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | Where-Object { $_.Extent.EndOffset -lt $cursorPosition } | ForEach-Object { $_.ToString() })
    $exe = $words[0]
    $rest = @()
    if ($words.Count -gt 1) { $rest = $words[1..($words.Count - 1)] }
    if ($wordToComplete -eq '--') { $rest += '-' } elseif ($wordToComplete -like '-*') { $rest += $wordToComplete }
    $rest += '--generate-bash-completion'
    & $exe @rest 2>$null | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
    }
}
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh, fish or powershell)",
		ArgsUsage: "bash|zsh|fish|powershell",
		Description: "Install it once for your shell:\n\n" +
			"  bash:       khantara completion bash > ~/.local/share/bash-completion/completions/khantara\n" +
			"              (or add  source <(khantara completion bash)  to ~/.bashrc)\n" +
			"  zsh:        khantara completion zsh > \"${fpath[1]}/_khantara\"\n" +
			"              (or add  source <(khantara completion zsh)  to ~/.zshrc, after compinit)\n" +
			"  fish:       khantara completion fish > ~/.config/fish/completions/khantara.fish\n" +
			"  powershell: khantara completion powershell >> $PROFILE\n\n" +
			"Open a new shell afterwards. The scripts complete commands and flags by asking\n" +
			"the khantara binary on your PATH, so they follow its version.",
		Flags:           withGlobals(),
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *cli.Context) error {
			shells := "bash, zsh, fish or powershell"
			args, err := positionals(c)
			if err != nil {
				return err
			}
			if len(args) != 1 {
				return cli.Exit("completion: name a shell: "+shells, exitUsage)
			}
			var script string
			switch strings.ToLower(args[0]) {
			case "bash":
				script = bashCompletion
			case "zsh":
				script = zshCompletion
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return fmt.Errorf("make the fish script: %w", err)
				}
				script = s
			case "powershell", "pwsh":
				script = powershellCompletion
			default:
				return cli.Exit(fmt.Sprintf("completion: %q is not a shell this knows; name %s", args[0], shells), exitUsage)
			}
			_, err = fmt.Fprint(c.App.Writer, script)
			return err
		},
	}
}
