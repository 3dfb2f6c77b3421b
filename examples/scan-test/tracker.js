// The "third-party" script of the scanner's test page (violations.html).
document.documentElement.dataset.trackerRan = "1";
