/* The guest image (objcopy -O binary of minios.elf, made in the build directory). */
        .file   "guest.S"
        .section .rodata.guest, "a"
        .balign 16
        .global guest_image, guest_image_end
guest_image:
        .incbin "minios.bin"
guest_image_end:
