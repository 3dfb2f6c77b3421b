// Stand-in for a real analytics tag: sets a first-party cookie and marks that it ran.
document.cookie = "_yy_stats=" + Date.now() + "; path=/; max-age=31536000; SameSite=Lax";
document.documentElement.dataset.analyticsRan = "1";
