// peak_rss OUT PROGRAM [ARGS...]: runs PROGRAM, writes its peak resident memory (KiB, wait4's
// ru_maxrss) to OUT and exits as it did. Tests start riskmap through it because a child forked
// from the test process itself counts the test's memory as its own (Linux keeps the larger
// maximum across exec); this process is small, so the figure is riskmap's.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: peak_rss OUT PROGRAM [ARGS...]\n");
        return 2;
    }
    const pid_t pid = ::fork();
    if (pid < 0) return 127;
    if (pid == 0) {
        ::execv(argv[2], argv + 2);
        ::_exit(127);
    }
    int status = 0;
    rusage ru{};
    if (::wait4(pid, &status, 0, &ru) != pid) return 127;
    if (std::FILE* f = std::fopen(argv[1], "w")) {
        std::fprintf(f, "%ld\n", ru.ru_maxrss);
        std::fclose(f);
    }
    if (WIFSIGNALED(status)) {
        std::signal(WTERMSIG(status), SIG_DFL);
        ::raise(WTERMSIG(status));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 127;
}
