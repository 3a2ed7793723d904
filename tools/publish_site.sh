#!/usr/bin/env bash
# Build the course's website (make site: _build/site/, offline, warnings as errors) and publish it as the single
# commit of a branch for GitHub Pages ("Deploy from a branch": gh-pages, / (root)). Nothing else of the checkout is
# touched: the commit is made from _build/site/ with an index of its own. Ready for CI: no prompt, exit 1 on failure.
#
#   tools/publish_site.sh              # build, then push to origin's gh-pages (force: the branch is the site alone)
#   tools/publish_site.sh --dry-run    # build and make the commit, push nothing
#   SITE_REMOTE=upstream SITE_BRANCH=pages tools/publish_site.sh
#
# The "Run it" line of each page names the repository (and links Binder on GitHub): COURSE_REPO_URL, else
# https://github.com/$GITHUB_REPOSITORY in GitHub Actions, else the origin remote's address (tools/site.py).
# In GitHub Actions: actions/checkout, then `bash tools/publish_site.sh` with `permissions: contents: write`.
set -euo pipefail
cd "$(dirname "$0")/.."
REMOTE="${SITE_REMOTE:-origin}"
BRANCH="${SITE_BRANCH:-gh-pages}"
if [ -z "${COURSE_REPO_URL:-}" ] && [ -n "${GITHUB_REPOSITORY:-}" ]; then
  export COURSE_REPO_URL="https://github.com/${GITHUB_REPOSITORY}"
fi

make site
touch _build/site/.nojekyll  # GitHub Pages serves _static/ as it is (no Jekyll, which skips folders named _*)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export GIT_INDEX_FILE="$scratch/index"
git --work-tree=_build/site add --all --force .
tree=$(git write-tree)
unset GIT_INDEX_FILE
source_commit=$(git rev-parse --short HEAD)
commit=$(
  GIT_AUTHOR_NAME="${GIT_AUTHOR_NAME:-course site}" GIT_AUTHOR_EMAIL="${GIT_AUTHOR_EMAIL:-site@localhost}" \
  GIT_COMMITTER_NAME="${GIT_COMMITTER_NAME:-course site}" GIT_COMMITTER_EMAIL="${GIT_COMMITTER_EMAIL:-site@localhost}" \
    git commit-tree "$tree" -m "The course's website, built from $source_commit by tools/publish_site.sh"
)
echo "Site commit $commit ($(git ls-tree -r --name-only "$commit" | wc -l) files) from $source_commit"
if [ "${1:-}" = "--dry-run" ]; then
  echo "Dry run: not pushed (would push to $REMOTE $BRANCH)"
  exit 0
fi
git push --force "$REMOTE" "$commit:refs/heads/$BRANCH"
echo "Pushed to $REMOTE $BRANCH: in the repository's Settings > Pages, deploy from the branch $BRANCH, folder /"
