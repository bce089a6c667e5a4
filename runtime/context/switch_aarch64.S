/* weft context switch for AArch64 (AAPCS64).
 *
 * void* weft_ctx_switch(void** save_sp, void* load_sp, void* pass)
 *
 * Returns `pass` to the resumed context in x0.
 *
 * Saves the callee-saved set only: x19-x28, fp (x29), lr (x30), the low
 * halves d8-d15 and FPCR. Frame layout from the saved sp (176 bytes, keeps
 * sp 16-byte aligned):
 *   +0 x19,x20  +16 x21,x22  +32 x23,x24  +48 x25,x26  +64 x27,x28
 *   +80 x29,x30 +96 d8,d9 +112 d10,d11 +128 d12,d13 +144 d14,d15 +160 fpcr
 * context_asm.cpp builds the same layout for a fresh stack.
 */
    .text
    .globl weft_ctx_switch
    .type weft_ctx_switch,%function
    .p2align 4
weft_ctx_switch:
    sub sp, sp, #176
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mrs x9, fpcr
    str x9, [sp, #160]
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    ldr x9, [sp, #160]
    msr fpcr, x9
    add sp, sp, #176
    mov x0, x2
    /* `ret`, not `br x30`: the scheduler switches from the same call sites
     * in every thread, so the return-stack predictor guesses right and stays
     * balanced for the resumed thread's later returns (see switch_x86_64.S). */
    ret
    .size weft_ctx_switch,.-weft_ctx_switch

/* First code a new context runs: x19 holds the argument, x20 the entry,
 * x0 the value the first switch passed (entry's second argument). */
    .globl weft_ctx_trampoline
    .type weft_ctx_trampoline,%function
    .p2align 4
weft_ctx_trampoline:
    mov x29, #0
    mov x1, x0
    mov x0, x19
    blr x20
    brk #0
    .size weft_ctx_trampoline,.-weft_ctx_trampoline

    .section .note.GNU-stack,"",%progbits
