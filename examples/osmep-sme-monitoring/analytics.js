// Stand-in for a real analytics tag: sets a first-party session cookie (it ends when the
// browser closes, as OSMEP's policy says of its cookies) and marks that it ran.
document.cookie = "_yy_stats=" + Date.now() + "; path=/; SameSite=Lax";
document.documentElement.dataset.analyticsRan = "1";
