/* weft context switch for x86-64 System V.
 *
 * void* weft_ctx_switch(void** save_sp, void* load_sp, void* pass)
 *
 * Returns `pass` to the resumed context (in rax: it returns from its own
 * call to weft_ctx_switch with the resumer's value).
 *
 * Saves only what the ABI says a callee must preserve: rbx, rbp, r12-r15,
 * the x87 control word and MXCSR's control bits. Caller-saved registers are
 * already spilled by the compiler around the call, so saving them would be
 * wasted work (Photon's observation). The frame layout, from the saved sp up:
 *   +0  x87 control word (2 bytes, 8 reserved)   +8  MXCSR
 *   +16 r15  +24 r14  +32 r13  +40 r12  +48 rbx  +56 rbp  +64 return address
 * context_asm.cpp builds the same layout for a fresh stack; keep them in step.
 */
    .text
    .globl weft_ctx_switch
    .type weft_ctx_switch,@function
    .p2align 4
weft_ctx_switch:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $16, %rsp
    fnstcw (%rsp)
    stmxcsr 8(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    fldcw (%rsp)
    ldmxcsr 8(%rsp)
    addq $16, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    /* `ret`, not Boost's `pop; jmp *reg`. The return predictor guesses
     * the call site of the switch being left, and the resumed context
     * returns to its own; the scheduler switches from the same few call
     * sites in every thread, so the two usually match, and the predictor
     * stays balanced for every later return in the resumed thread. An indirect jump leaves one unmatched call on the predictor's
     * stack per switch, so each later return mispredicts: a yield cost
     * 35 ns that way against 13 ns with `ret`. Only a switch between
     * different call sites (BM_Switch_Raw_Asymmetric) pays a mispredict. */
    movq %rdx, %rax
    ret
    .cfi_endproc
    .size weft_ctx_switch,.-weft_ctx_switch

/* First code a new context runs: r12 holds the argument, r13 the entry,
 * rax the value the first switch passed (entry's second argument).
 * The entry never returns; ud2 turns a broken promise into a clean crash. */
    .globl weft_ctx_trampoline
    .type weft_ctx_trampoline,@function
    .p2align 4
weft_ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq %r12, %rdi
    movq %rax, %rsi
    callq *%r13
    ud2
    .cfi_endproc
    .size weft_ctx_trampoline,.-weft_ctx_trampoline

    .section .note.GNU-stack,"",@progbits
